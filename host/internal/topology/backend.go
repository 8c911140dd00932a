package topology

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hcldec"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	ctyjson "github.com/zclconf/go-cty/cty/json"

	"github.com/alphaswarm/controller/sdk"
)

// DecodeConfig decodes a backend block's body against the schema its
// plugin declares and returns it as the JSON the plugin's Configure takes.
// Unknown arguments, missing required ones and wrong types are diagnostics
// on the block's source.
func (b *Backend) DecodeConfig(schema sdk.Schema) (json.RawMessage, hcl.Diagnostics) {
	return DecodeBody(b.Body, b.ctx, schema, b.Type, b.DeclRange)
}

// DecodeTenantConfig decodes a backend block of a tenant's topology, which
// refers to a backend an operator registered: it may set only the
// attributes the plugin marks tenant-settable, and every other one is a
// diagnostic at it. The JSON holds just what the block sets.
func (b *Backend) DecodeTenantConfig(schema sdk.Schema) (json.RawMessage, hcl.Diagnostics) {
	tenant := TenantPart(schema)
	if diags := operatorOnly(b, tenant); diags.HasErrors() {
		return nil, diags
	}
	raw, diags := DecodeBody(b.Body, b.ctx, tenant, b.Type, b.DeclRange)
	if diags.HasErrors() {
		return nil, diags
	}
	return withoutNulls(raw), diags
}

// TenantPart is the part of schema a tenant may set: its tenant-settable
// attributes, and the blocks whose attributes all are.
func TenantPart(schema sdk.Schema) sdk.Schema {
	var out sdk.Schema
	for _, a := range schema.Attributes {
		if a.TenantSettable {
			out.Attributes = append(out.Attributes, a)
		}
	}
	for _, blk := range schema.Blocks {
		if inner := TenantPart(blk.Schema); len(inner.Attributes) == len(blk.Schema.Attributes) && len(inner.Blocks) == len(blk.Schema.Blocks) {
			out.Blocks = append(out.Blocks, blk)
		}
	}
	return out
}

// operatorOnly reports each attribute and block of the tenant's block
// that the tenant part of the schema lacks.
func operatorOnly(b *Backend, tenant sdk.Schema) hcl.Diagnostics {
	body, ok := b.Body.(*hclsyntax.Body)
	if !ok {
		return nil
	}
	settable := map[string]bool{}
	for _, a := range tenant.Attributes {
		settable[a.Name] = true
	}
	for _, blk := range tenant.Blocks {
		settable[blk.Name] = true
	}
	var diags hcl.Diagnostics
	refuse := func(name string, rng hcl.Range) {
		diags = diags.Append(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Set by the operator",
			Detail:  fmt.Sprintf("%q of backend %s belongs to the operator who registered the backend on this controller, not to a topology; remove it.%s", name, b.ID(), settableHint(tenant)),
			Subject: rng.Ptr()})
	}
	for _, name := range sortedKeys(body.Attributes) {
		if !settable[name] {
			refuse(name, body.Attributes[name].NameRange)
		}
	}
	for _, blk := range body.Blocks {
		if !settable[blk.Type] {
			refuse(blk.Type, blk.TypeRange)
		}
	}
	return diags
}

func settableHint(tenant sdk.Schema) string {
	var names []string
	for _, a := range tenant.Attributes {
		names = append(names, a.Name)
	}
	for _, blk := range tenant.Blocks {
		names = append(names, blk.Name)
	}
	if len(names) == 0 {
		return " A topology sets nothing of this backend: leave its block empty."
	}
	return fmt.Sprintf(" A topology may set %s.", strings.Join(names, ", "))
}

// withoutNulls drops the attributes a decoded body left null (absent).
func withoutNulls(raw json.RawMessage) json.RawMessage {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return raw
	}
	for k, v := range m {
		if string(v) == "null" {
			delete(m, k)
		}
	}
	out, _ := json.Marshal(m)
	return out
}

// DecodeBody decodes a configuration body against a plugin's schema, in
// ctx, and returns it as the JSON the plugin's Configure takes. Unknown
// arguments, missing required ones and wrong types are diagnostics on the
// body's source; declRange names the block for the rest.
func DecodeBody(body hcl.Body, ctx *hcl.EvalContext, schema sdk.Schema, plugin string, declRange hcl.Range) (json.RawMessage, hcl.Diagnostics) {
	spec, err := specFor(schema)
	if err != nil {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid plugin schema",
			Detail: fmt.Sprintf("The %q plugin declares a schema this host cannot read: %v.", plugin, err), Subject: declRange.Ptr()}}
	}
	val, diags := hcldec.Decode(body, spec, ctx)
	if diags.HasErrors() {
		return nil, diags
	}
	raw, err := ctyjson.Marshal(val, val.Type())
	if err != nil {
		return nil, diags.Append(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid backend configuration",
			Detail: err.Error() + ".", Subject: declRange.Ptr()})
	}
	return raw, diags
}

func specFor(s sdk.Schema) (hcldec.ObjectSpec, error) {
	spec := hcldec.ObjectSpec{}
	for _, a := range s.Attributes {
		ty, err := parseType(a.Type)
		if err != nil {
			return nil, fmt.Errorf("attribute %q: %w", a.Name, err)
		}
		spec[a.Name] = &hcldec.AttrSpec{Name: a.Name, Type: ty, Required: a.Required}
	}
	for _, blk := range s.Blocks {
		inner, err := specFor(blk.Schema)
		if err != nil {
			return nil, fmt.Errorf("block %q: %w", blk.Name, err)
		}
		switch blk.Nesting {
		case sdk.NestingSingle:
			spec[blk.Name] = &hcldec.BlockSpec{TypeName: blk.Name, Nested: inner, Required: blk.MinItems > 0}
		default:
			spec[blk.Name] = &hcldec.BlockListSpec{TypeName: blk.Name, Nested: inner, MinItems: blk.MinItems, MaxItems: blk.MaxItems}
		}
	}
	return spec, nil
}

// parseType reads the SDK's type constraint syntax, which is Terraform's.
func parseType(t sdk.Type) (cty.Type, error) {
	expr, diags := hclsyntax.ParseExpression([]byte(t), "type", hcl.InitialPos)
	if diags.HasErrors() {
		return cty.NilType, diags
	}
	ty, diags := typeexpr.TypeConstraint(expr)
	if diags.HasErrors() {
		return cty.NilType, diags
	}
	return ty, nil
}

var pathStep = regexp.MustCompile(`^([a-z0-9_]+)(?:\[([0-9]+)\])?$`)

// ConfigRange returns the source range of the configuration attribute at
// path ("tls.ca_file", "endpoint[1].url"), as a plugin's InvalidConfigError
// names it: the deepest part of the path the block spells out.
func (b *Backend) ConfigRange(path string) hcl.Range { return BodyRange(b.Body, b.DeclRange, path) }

// BodyRange is ConfigRange for a configuration body declared at declRange,
// such as the config block of a backend an operator registers.
func BodyRange(hbody hcl.Body, declRange hcl.Range, path string) hcl.Range {
	body, ok := hbody.(*hclsyntax.Body)
	if !ok || path == "" {
		return declRange
	}
	rng := declRange
	for _, step := range splitPath(path) {
		m := pathStep.FindStringSubmatch(step)
		if m == nil || body == nil {
			return rng
		}
		if a, ok := body.Attributes[m[1]]; ok {
			return a.Expr.Range()
		}
		index, n := 0, 0
		if m[2] != "" {
			index, _ = strconv.Atoi(m[2])
		}
		var next *hclsyntax.Body
		for _, blk := range body.Blocks {
			if blk.Type == m[1] {
				if n == index {
					rng, next = blk.DefRange(), blk.Body
					break
				}
				n++
			}
		}
		body = next
	}
	return rng
}

func splitPath(path string) []string {
	var steps []string
	start := 0
	for i := 0; i < len(path); i++ {
		if path[i] == '.' {
			steps = append(steps, path[start:i])
			start = i + 1
		}
	}
	return append(steps, path[start:])
}
