package backends

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/core/credentials"
	"github.com/alphaswarm/controller/host/internal/pluginmgr"
	"github.com/alphaswarm/controller/host/internal/topology"
	"github.com/alphaswarm/controller/sdk/pluginhost"
)

// The configuration file of a host (swarmctl server -config FILE):
//
//	backend "kubernetes" "prod" {
//	  config {
//	    kubeconfig_data = credential("kubernetes/prod-kubeconfig")
//	  }
//	  grant {
//	    tenants      = ["acme", "globex"]   # "*": every tenant
//	    environments = ["prod"]             # "*": every environment
//	  }
//	  shared_openly = false                 # true: tenants see node details
//	}
//
// config holds the plugin's configuration, checked against the schema the
// plugin declares; credential("name") names a secret of the operator's
// secret store, resolved only when a plugin instance is configured. A
// backend without a grant is registered and used by no one.

var fileSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: "backend", LabelNames: []string{"type", "name"}}}}

var backendSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "shared_openly"}},
	Blocks:     []hcl.BlockHeaderSchema{{Type: "config"}, {Type: "grant"}},
}

type grantBody struct {
	Tenants      []string `hcl:"tenants"`
	Environments []string `hcl:"environments"`
}

// Load reads the configuration file at path into r. Plugin configurations
// are checked by Bind, once the plugins are known.
func (r *Registry) Load(path string) hcl.Diagnostics {
	src, err := os.ReadFile(path)
	if err != nil {
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read the host configuration", Detail: err.Error() + "."}}
	}
	return r.Parse(src, path)
}

// Parse reads a configuration file's content into r.
func (r *Registry) Parse(src []byte, filename string) hcl.Diagnostics {
	f, diags := hclparse.NewParser().ParseHCL(src, filename)
	if diags.HasErrors() {
		return diags
	}
	content, d := f.Body.Content(fileSchema)
	diags = append(diags, d...)
	for _, block := range content.Blocks {
		b, d := parseBackend(block)
		diags = append(diags, d...)
		if b == nil {
			continue
		}
		if err := r.Add(b); err != nil {
			diags = diags.Append(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Duplicate backend",
				Detail: fmt.Sprintf("Backend %s is registered twice.", b.ID()), Subject: block.DefRange.Ptr()})
		}
	}
	return diags
}

func parseBackend(block *hcl.Block) (*Backend, hcl.Diagnostics) {
	b := &Backend{Type: block.Labels[0], Name: block.Labels[1], DeclRange: block.DefRange}
	var diags hcl.Diagnostics
	for i, label := range block.Labels {
		if !core.IsName(label) {
			diags = diags.Append(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid backend label",
				Detail: fmt.Sprintf("%q is not a valid name: lower-case letters, digits and '-', at most 63.", label), Subject: block.LabelRanges[i].Ptr()})
		}
	}
	content, d := block.Body.Content(backendSchema)
	diags = append(diags, d...)
	if diags.HasErrors() {
		return nil, diags
	}
	if attr, ok := content.Attributes["shared_openly"]; ok {
		diags = append(diags, gohcl.DecodeExpression(attr.Expr, nil, &b.SharedOpenly)...)
	}
	for _, inner := range content.Blocks {
		switch inner.Type {
		case "config":
			if b.body != nil {
				diags = diags.Append(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Duplicate config block",
					Detail: fmt.Sprintf("Backend %s has more than one config block.", b.ID()), Subject: inner.DefRange.Ptr()})
			}
			b.body = inner.Body
		case "grant":
			var g grantBody
			d := gohcl.DecodeBody(inner.Body, nil, &g)
			diags = append(append(diags, d...), checkGrant(g, inner)...)
			b.Grants = append(b.Grants, Grant(g))
		}
	}
	if b.body == nil {
		b.body = hcl.EmptyBody()
	}
	return b, diags
}

// Bind checks each backend's configuration against the schema its plugin
// declares, and against the plugin's own offline checks (ValidateConfig),
// with each credential an unknown value: an operator's mistake is reported
// at its place in the file before any backend or the secret store is
// reached. Each plugin runs once, unconfigured and with no environment. A
// backend whose plugin is not installed, or whose configuration does not
// fit, is a diagnostic: the host does not start with a configuration it
// cannot use.
func (r *Registry) Bind(ctx context.Context, plugins *pluginmgr.Manager) hcl.Diagnostics {
	var diags hcl.Diagnostics
	checkers := map[string]*pluginhost.Client{}
	defer func() {
		for _, c := range checkers {
			c.Close()
		}
	}()
	for _, b := range r.List() {
		p, err := plugins.Plugin(b.Type)
		if err != nil {
			diags = diags.Append(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Backend plugin not installed",
				Detail: fmt.Sprintf("Backend %s needs the %q plugin: %v.", b.ID(), b.Type, err), Subject: b.DeclRange.Ptr()})
			continue
		}
		c := checkers[b.Type]
		if c == nil {
			if c, err = plugins.LaunchUnconfigured(ctx, p); err != nil {
				diags = diags.Append(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Backend plugin failed",
					Detail: fmt.Sprintf("Backend %s: %v.", b.ID(), err), Subject: b.DeclRange.Ptr()})
				continue
			}
			checkers[b.Type] = c
		}
		schema := c.Info().ConfigSchema
		config, d := topology.DecodeBody(b.body, r.evalContext(), schema, b.Type, b.DeclRange)
		diags = append(diags, d...)
		if d.HasErrors() {
			continue
		}
		d = r.validateConfig(ctx, c, b, config)
		diags = append(diags, d...)
		if d.HasErrors() {
			continue
		}
		b.config, b.schema, b.bound = config, schema, true
	}
	return diags
}

// evalContext offers credential("name") to configurations: a reference
// that Instance resolves from the operator's secret store.
func (r *Registry) evalContext() *hcl.EvalContext {
	return &hcl.EvalContext{Functions: map[string]function.Function{
		"credential": function.New(&function.Spec{
			Description: "A secret of the operator's secret store, resolved when a plugin instance is configured.",
			Params:      []function.Parameter{{Name: "name", Type: cty.String}},
			Type:        function.StaticReturnType(cty.String),
			Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
				name := args[0].AsString()
				if err := credentials.CheckName(name); err != nil {
					return cty.NilVal, function.NewArgError(0, err)
				}
				return cty.StringVal(r.marker + name), nil
			},
		}),
	}}
}

// checkGrant refuses names that no tenant or environment can have, and
// empty lists, which would grant nothing while looking like a grant.
func checkGrant(g grantBody, block *hcl.Block) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, f := range []struct {
		field string
		names []string
	}{{"tenants", g.Tenants}, {"environments", g.Environments}} {
		field, names := f.field, f.names
		if len(names) == 0 {
			diags = diags.Append(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Empty grant",
				Detail: fmt.Sprintf("%s is empty: name some, or \"*\" for all.", field), Subject: block.DefRange.Ptr()})
		}
		for _, n := range names {
			if n != "*" && !core.IsName(n) {
				diags = diags.Append(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid grant",
					Detail: fmt.Sprintf("%s holds %q, which is not a name (lower-case letters, digits and '-') nor \"*\".", field, n), Subject: block.DefRange.Ptr()})
			}
		}
	}
	return diags
}

// Open parses a configuration file's content named name and binds its
// backends to their plugins.
func Open(ctx context.Context, src, name string, secrets credentials.SecretStore, plugins *pluginmgr.Manager) (*Registry, error) {
	r := New(secrets)
	if err := DiagnosticsError(r.Parse([]byte(src), name)); err != nil {
		return nil, err
	}
	if err := DiagnosticsError(r.Bind(ctx, plugins)); err != nil {
		return nil, err
	}
	return r, nil
}

// ForEveryone is the configuration that registers the backends ids
// ("<type>.<name>") with their plugins' defaults, granted to every tenant
// in every environment, as dev mode does.
func ForEveryone(ids ...string) string {
	var b strings.Builder
	for _, id := range ids {
		typ, name, _ := strings.Cut(id, ".")
		fmt.Fprintf(&b, "backend %q %q {\n  grant {\n    tenants      = [\"*\"]\n    environments = [\"*\"]\n  }\n}\n", typ, name)
	}
	return b.String()
}
