package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2/hclparse"

	"github.com/alphaswarm/controller/host/internal/topology"
)

// generatedTopology writes 1,000 services, in 10 deployments of 100, each
// using a variable, a local, a function, a port, a health check, resources
// and a depends_on, the way real files do.
func generatedTopology() string {
	var b strings.Builder
	b.WriteString("variable \"tag\" {\n  type    = string\n  default = \"1.0.0\"\n}\n\n")
	b.WriteString("locals {\n  env = { LOG_LEVEL = \"info\" }\n}\n\n")
	b.WriteString("backend \"compose\" \"local\" {}\n\n")
	for d := range 10 {
		fmt.Fprintf(&b, "deployment \"d%d\" {\n  tenant      = \"acme\"\n  environment = \"prod\"\n  backend     = backend.compose.local\n\n", d)
		for s := range 100 {
			fmt.Fprintf(&b, "  service \"s%d\" {\n    image    = \"registry.example.com/acme/s%d:${var.tag}\"\n    replicas = 2\n    env      = merge(local.env, { INDEX = \"%d\" })\n", s, s, s)
			if s > 0 {
				fmt.Fprintf(&b, "    depends_on = [service.s%d]\n", s-1)
			}
			b.WriteString("    port \"http\" {\n      container = 8080\n    }\n    resources {\n      cpu    = 0.5\n      memory = \"128Mi\"\n    }\n")
			b.WriteString("    health {\n      http     = \"/healthz\"\n      port     = \"http\"\n      interval = \"5s\"\n    }\n  }\n")
		}
		b.WriteString("}\n\n")
	}
	return b.String()
}

// BenchmarkTopologyLoad measures loading and validating the generated
// topology against parsing the same bytes with hclparse alone, taking
// turns; each reports its median as <variant>_p50_ns.
func BenchmarkTopologyLoad(b *testing.B) {
	src := generatedTopology()
	dir := b.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(src), 0o644); err != nil {
		b.Fatal(err)
	}
	var load, parse durations
	for b.Loop() {
		load.time(b, func() (func(), error) {
			top, diags := topology.Load(dir, topology.Values{})
			if diags.HasErrors() {
				return nil, diags
			}
			if n := len(top.Deployments) * len(top.Deployments[0].Spec.Services); n != 1000 {
				return nil, fmt.Errorf("loaded %d services", n)
			}
			return func() {}, nil
		})
		parse.time(b, func() (func(), error) {
			_, diags := hclparse.NewParser().ParseHCL([]byte(src), "main.hcl")
			if diags.HasErrors() {
				return nil, diags
			}
			return func() {}, nil
		})
	}
	load.report(b, "load_validate")
	parse.report(b, "hclparse")
}
