package topology

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"

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
	spec, err := specFor(schema)
	if err != nil {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid plugin schema",
			Detail: fmt.Sprintf("The %q plugin declares a schema this host cannot read: %v.", b.Type, err), Subject: b.DeclRange.Ptr()}}
	}
	val, diags := hcldec.Decode(b.Body, spec, b.ctx)
	if diags.HasErrors() {
		return nil, diags
	}
	raw, err := ctyjson.Marshal(val, val.Type())
	if err != nil {
		return nil, diags.Append(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid backend configuration",
			Detail: err.Error() + ".", Subject: b.DeclRange.Ptr()})
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
func (b *Backend) ConfigRange(path string) hcl.Range {
	body, ok := b.Body.(*hclsyntax.Body)
	if !ok || path == "" {
		return b.DeclRange
	}
	rng := b.DeclRange
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
