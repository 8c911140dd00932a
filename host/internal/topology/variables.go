package topology

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// EnvPrefix starts the environment variables that set topology variables:
// ALPHASWARM_VAR_tag=1.4.3 sets var.tag.
const EnvPrefix = "ALPHASWARM_VAR_"

// Values are the variable values given from outside the files, lowest
// precedence first: the environment, then -var-file files in order, then
// -var arguments in order, as in Terraform.
type Values struct {
	Environ []string // NAME=value pairs, as os.Environ gives them
	Files   []string // -var-file paths
	Args    []string // -var name=value arguments
	// Context, when set, stops the evaluation once it ends: the loader
	// checks it between locals and between deployments (one expression is
	// bounded by the limits).
	Context context.Context
}

// stopped is a diagnostic when vals' context has ended, nil otherwise.
func (vals Values) stopped() hcl.Diagnostics {
	if vals.Context == nil || vals.Context.Err() == nil {
		return nil
	}
	return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Evaluation stopped",
		Detail: fmt.Sprintf("The topology was not evaluated to the end: %v.", context.Cause(vals.Context))}}
}

type variable struct {
	name        string
	typ         cty.Type
	def         cty.Value // cty.NilVal: required
	description string
	validations []validation
	decl        hcl.Range
}

type validation struct {
	condition, message hcl.Expression
	rng                hcl.Range
}

var variableSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "type"}, {Name: "default"}, {Name: "description"}},
	Blocks:     []hcl.BlockHeaderSchema{{Type: "validation"}},
}

var validationSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "condition", Required: true}, {Name: "error_message", Required: true},
}}

func decodeVariable(block *hcl.Block) (*variable, hcl.Diagnostics) {
	v := &variable{name: block.Labels[0], typ: cty.DynamicPseudoType, decl: block.DefRange}
	content, diags := block.Body.Content(variableSchema)
	if !hclsyntax.ValidIdentifier(v.name) {
		diags = diags.Append(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid variable name",
			Detail: fmt.Sprintf("%q is not a valid name: use letters, digits, underscores and dashes, starting with a letter.", v.name), Subject: block.LabelRanges[0].Ptr()})
	}
	if attr, ok := content.Attributes["type"]; ok {
		ty, d := typeexpr.TypeConstraint(attr.Expr)
		diags = append(diags, d...)
		v.typ = ty
	}
	if attr, ok := content.Attributes["description"]; ok {
		val, d := attr.Expr.Value(nil)
		diags = append(diags, d...)
		if !d.HasErrors() && val.Type() == cty.String && val.IsKnown() && !val.IsNull() {
			v.description = val.AsString()
		}
	}
	if attr, ok := content.Attributes["default"]; ok {
		val, d := attr.Expr.Value(nil)
		diags = append(diags, d...)
		if !d.HasErrors() {
			conv, err := convert.Convert(val, v.typ)
			if err != nil {
				diags = diags.Append(attrDiag(attr, "Invalid default value for variable", fmt.Errorf("the default of %q does not match its type %s: %v", v.name, typeexpr.TypeString(v.typ), err)))
				v.def = cty.UnknownVal(v.typ) // reported here; not "required" as well
			} else {
				v.def = conv
			}
		}
	}
	for _, b := range content.Blocks {
		vc, d := b.Body.Content(validationSchema)
		diags = append(diags, d...)
		if !d.HasErrors() {
			v.validations = append(v.validations, validation{vc.Attributes["condition"].Expr, vc.Attributes["error_message"].Expr, b.DefRange})
		}
	}
	return v, diags
}

// assign gives every declared variable its value: default, then the
// environment, files and arguments of vals.
func assign(vars map[string]*variable, vals Values, parser *hclparse.Parser, b *budget) (map[string]cty.Value, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	raw := map[string]cty.Value{}
	for _, kv := range vals.Environ {
		name, value, ok := strings.Cut(kv, "=")
		if n, isVar := strings.CutPrefix(name, EnvPrefix); ok && isVar && vars[n] != nil {
			val, d := parseRawValue(vars[n], value, "the environment variable "+name, b)
			diags = append(diags, d...)
			raw[n] = val
		}
	}
	for _, path := range vals.Files {
		f, d := parseFile(parser, path, b)
		diags = append(diags, d...)
		if d.HasErrors() {
			continue
		}
		attrs, d := f.Body.JustAttributes()
		diags = append(diags, d...)
		for _, name := range sortedAttrNames(attrs) {
			attr := attrs[name]
			if vars[name] == nil {
				diags = diags.Append(&hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "Value for undeclared variable",
					Detail: fmt.Sprintf("The file sets %q, which no variable block declares; the value is ignored.", name), Subject: attr.NameRange.Ptr()})
				continue
			}
			val, d := checkedValue(attr.Expr, nil)
			diags = append(diags, d...)
			raw[name] = val
		}
	}
	for _, arg := range vals.Args {
		name, value, ok := strings.Cut(arg, "=")
		switch {
		case !ok:
			diags = diags.Append(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid -var option",
				Detail: fmt.Sprintf("The option %q is not of the form name=value.", arg)})
		case vars[name] == nil:
			diags = diags.Append(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Value for undeclared variable",
				Detail: fmt.Sprintf("-var sets %q, but no variable block declares it. Declare it with variable %q { ... }.", name, name)})
		default:
			val, d := parseRawValue(vars[name], value, "-var "+name, b)
			diags = append(diags, d...)
			raw[name] = val
		}
	}
	values := map[string]cty.Value{}
	for _, name := range sortedKeys(vars) {
		v := vars[name]
		val, given := raw[name]
		switch {
		case given && val != cty.NilVal:
			conv, err := convert.Convert(val, v.typ)
			if err != nil {
				diags = diags.Append(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid value for variable",
					Detail: fmt.Sprintf("The value given for %q does not match its type %s: %v.", name, typeexpr.TypeString(v.typ), err), Subject: v.decl.Ptr()})
				conv = cty.UnknownVal(v.typ)
			}
			values[name] = conv
		case v.def != cty.NilVal:
			values[name] = v.def
		default:
			diags = diags.Append(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "No value for required variable",
				Detail: fmt.Sprintf("Variable %q has no default; set it with -var %s=..., a -var-file, or %s%s.", name, name, EnvPrefix, name), Subject: v.decl.Ptr()})
			values[name] = cty.UnknownVal(v.typ)
		}
	}
	return values, diags
}

// parseRawValue reads a value given as text: as it is for a string
// variable, as an HCL expression (a number, a list, a map) otherwise.
func parseRawValue(v *variable, text, from string, b *budget) (cty.Value, hcl.Diagnostics) {
	if v.typ == cty.String {
		if len(text) > MaxStringBytes {
			return cty.NilVal, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Value too large",
				Detail: fmt.Sprintf("The value of %s is %d bytes; at most %d are allowed.", from, len(text), MaxStringBytes)}}
		}
		return cty.StringVal(text), nil
	}
	if diags := b.scanExpression([]byte(text), from); diags.HasErrors() {
		return cty.NilVal, diags
	}
	expr, diags := hclsyntax.ParseExpression([]byte(text), from, hcl.InitialPos)
	if diags.HasErrors() {
		return cty.NilVal, diags
	}
	return checkedValue(expr, nil)
}

// checkValidations runs each variable's validation blocks.
func checkValidations(vars map[string]*variable, values map[string]cty.Value, eb *evalBudget) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, name := range sortedKeys(vars) {
		v := vars[name]
		if !values[name].IsWhollyKnown() {
			continue
		}
		ctx := &hcl.EvalContext{Variables: map[string]cty.Value{"var": cty.ObjectVal(map[string]cty.Value{name: values[name]})}, Functions: functions(eb)}
		for _, val := range v.validations {
			ok, d := val.condition.Value(ctx)
			diags = append(diags, d...)
			if d.HasErrors() {
				continue
			}
			if ok.Type() != cty.Bool || ok.IsNull() || !ok.IsKnown() {
				diags = diags.Append(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid validation condition",
					Detail: "The condition must be true or false.", Subject: val.condition.Range().Ptr()})
				continue
			}
			if ok.False() {
				msg, d := val.message.Value(ctx)
				text := "The value is not valid."
				if !d.HasErrors() && msg.Type() == cty.String && msg.IsKnown() && !msg.IsNull() {
					text = msg.AsString()
				}
				diags = diags.Append(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid value for variable",
					Detail: fmt.Sprintf("var.%s: %s", name, text), Subject: val.rng.Ptr()})
			}
		}
	}
	return diags
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func sortedAttrNames(attrs hcl.Attributes) []string { return sortedKeys(attrs) }
