package topology

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// render writes diagnostics one per line: file:line,column: severity: summary: detail.
func render(diags hcl.Diagnostics) string {
	var b strings.Builder
	for _, d := range diags {
		pos := "-"
		if d.Subject != nil {
			pos = fmt.Sprintf("%s:%d,%d", filepath.Base(d.Subject.Filename), d.Subject.Start.Line, d.Subject.Start.Column)
		}
		sev := "error"
		if d.Severity == hcl.DiagWarning {
			sev = "warning"
		}
		fmt.Fprintf(&b, "%s: %s: %s: %s\n", pos, sev, d.Summary, d.Detail)
	}
	return b.String()
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run go test -update): %v", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s (-golden +got):\n%s", path, diff)
	}
}

// TestBadTopologies pairs each directory under testdata/bad with the
// diagnostics it must give: every one with a position, none a panic.
func TestBadTopologies(t *testing.T) {
	t.Parallel()
	dirs, err := filepath.Glob("testdata/bad/*")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no bad cases: %v", err)
	}
	for _, dir := range dirs {
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			continue
		}
		t.Run(filepath.Base(dir), func(t *testing.T) {
			t.Parallel()
			_, diags := Load(dir, Values{})
			if !diags.HasErrors() {
				t.Fatalf("no error for a bad topology; diagnostics:\n%s", render(diags))
			}
			for _, d := range diags {
				if d.Subject == nil {
					t.Errorf("diagnostic without a position: %s: %s", d.Summary, d.Detail)
				}
			}
			golden(t, dir+".golden", render(diags))
		})
	}
}

// TestExamples loads every example topology and pins what it decodes to.
func TestExamples(t *testing.T) {
	t.Parallel()
	dirs, _ := filepath.Glob("../../../examples/topologies/*")
	if len(dirs) < 3 {
		t.Fatalf("want the three example topologies, found %v", dirs)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			t.Parallel()
			top, diags := Load(dir, Values{})
			if diags.HasErrors() {
				t.Fatalf("example does not load:\n%s", render(diags))
			}
			type decoded struct {
				Backends    []string `json:"backends"`
				Deployments []any    `json:"deployments"`
			}
			var out decoded
			for _, b := range top.Backends {
				out.Backends = append(out.Backends, b.ID())
			}
			for _, d := range top.Deployments {
				out.Deployments = append(out.Deployments, map[string]any{"backend": d.Backend.ID(), "spec": d.Spec})
			}
			raw, _ := json.MarshalIndent(out, "", "  ")
			golden(t, filepath.Join("testdata", "examples", filepath.Base(dir)+".json"), string(raw)+"\n")
		})
	}
}

func writeTopology(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const varTopology = `
variable "tag" {
  type    = string
  default = "default"
}
variable "replicas" {
  type    = number
  default = 1
}
backend "compose" "local" {}
deployment "shop" {
  tenant      = "acme"
  environment = "prod"
  backend     = backend.compose.local
  service "web" {
    image    = "web:${var.tag}"
    replicas = var.replicas
  }
}
`

// TestVariablePrecedence: default < environment < -var-file < -var.
func TestVariablePrecedence(t *testing.T) {
	t.Parallel()
	dir := writeTopology(t, map[string]string{"main.hcl": varTopology, "prod.vars": `tag = "file"` + "\n" + `replicas = 3` + "\n"})
	cases := []struct {
		name     string
		vals     Values
		image    string
		replicas int
	}{
		{"default", Values{}, "web:default", 1},
		{"environment", Values{Environ: []string{"ALPHASWARM_VAR_tag=env", "ALPHASWARM_VAR_replicas=2"}}, "web:env", 2},
		{"file over environment", Values{Environ: []string{"ALPHASWARM_VAR_tag=env"}, Files: []string{filepath.Join(dir, "prod.vars")}}, "web:file", 3},
		{"argument over file", Values{Files: []string{filepath.Join(dir, "prod.vars")}, Args: []string{"tag=arg", "replicas=4"}}, "web:arg", 4},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			top, diags := Load(dir, tc.vals)
			if diags.HasErrors() {
				t.Fatal(render(diags))
			}
			web := top.Deployments[0].Spec.Services[0]
			if web.Image != tc.image || web.Replicas != tc.replicas {
				t.Errorf("image %q replicas %d, want %q and %d", web.Image, web.Replicas, tc.image, tc.replicas)
			}
		})
	}
}

func TestVariableErrors(t *testing.T) {
	t.Parallel()
	dir := writeTopology(t, map[string]string{"main.hcl": varTopology})
	cases := []struct {
		vals Values
		want string
	}{
		{Values{Args: []string{"nope=1"}}, `-var sets "nope", but no variable block declares it`},
		{Values{Args: []string{"tag"}}, `"tag" is not of the form name=value`},
		{Values{Args: []string{"replicas=three"}}, `Variables not allowed`},
		{Values{Files: []string{filepath.Join(dir, "missing.vars")}}, "missing.vars"},
	}
	for _, tc := range cases {
		_, diags := Load(dir, tc.vals)
		if !diags.HasErrors() || !strings.Contains(render(diags), tc.want) {
			t.Errorf("Load with %+v:\n%s\nwant an error mentioning %q", tc.vals, render(diags), tc.want)
		}
	}
}

func TestSecretsStayReferences(t *testing.T) {
	t.Parallel()
	dir := writeTopology(t, map[string]string{"main.hcl": `
backend "compose" "local" {}
deployment "shop" {
  tenant      = "acme"
  environment = "prod"
  backend     = backend.compose.local
  service "web" {
    image      = "web:1"
    secret_env = { DB_PASSWORD = secret("shop/db"), API_KEY = secret("shop/api-key") }
  }
}
`})
	top, diags := Load(dir, Values{})
	if diags.HasErrors() {
		t.Fatal(render(diags))
	}
	got := top.Deployments[0].Spec.Services[0].SecretEnv
	want := `[{"env":"API_KEY","ref":"shop/api-key"},{"env":"DB_PASSWORD","ref":"shop/db"}]`
	if raw, _ := json.Marshal(got); string(raw) != want {
		t.Errorf("secret_env decoded to %s, want %s", raw, want)
	}
}

func TestSecretCannotBeInterpolated(t *testing.T) {
	t.Parallel()
	dir := writeTopology(t, map[string]string{"main.hcl": `
backend "compose" "local" {}
deployment "shop" {
  tenant      = "acme"
  environment = "prod"
  backend     = backend.compose.local
  service "web" {
    image = "web:${secret("shop/tag")}"
  }
}
`})
	_, diags := Load(dir, Values{})
	if !diags.HasErrors() || diags[0].Subject == nil || diags[0].Subject.Start.Line != 8 {
		t.Errorf("a secret in a string template: %s", render(diags))
	}
}

func TestDeploymentRanges(t *testing.T) {
	t.Parallel()
	top, diags := Load("../../../examples/topologies/quickstart-compose", Values{})
	if diags.HasErrors() {
		t.Fatal(render(diags))
	}
	d := top.Deployments[0]
	cases := map[string]int{ // path -> line in main.hcl
		"service.api.replicas":            47,
		"service.api.depends_on":          49,
		"service.api.port.http.container": 52,
		"service.api.port.http.host":      51, // not written: the port block
		"service.api.resources.memory":    57,
		"service.api.health.interval":     63,
		"service.nope.image":              25, // unknown: the deployment
	}
	for path, line := range cases {
		if got := d.Range(path).Start.Line; got != line {
			t.Errorf("Range(%q) is on line %d, want %d", path, got, line)
		}
	}
}

// TestLanguageDocParses keeps the examples of docs/topology.md honest: each
// complete hcl block must parse.
func TestLanguageDocParses(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../../../docs/topology.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := strings.Split(string(doc), "```hcl\n")[1:]
	if len(blocks) < 10 {
		t.Fatalf("found %d hcl examples in the language doc", len(blocks))
	}
	for i, b := range blocks {
		src, _, _ := strings.Cut(b, "```")
		if strings.Contains(src, "...") {
			continue // an outline, not a complete example
		}
		if _, diags := hclparse.NewParser().ParseHCL([]byte(src), fmt.Sprintf("example %d", i+1)); diags.HasErrors() {
			t.Errorf("docs/topology.md example %d does not parse: %s\n%s", i+1, diags, src)
		}
	}
}
