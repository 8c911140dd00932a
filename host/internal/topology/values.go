package topology

import (
	"fmt"
	"math/big"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// eval evaluates an attribute and rejects null and unknown values, which
// a topology attribute never means.
func eval(attr *hcl.Attribute, ctx *hcl.EvalContext) (cty.Value, hcl.Diagnostics) {
	v, diags := checkedValue(attr.Expr, ctx)
	if diags.HasErrors() {
		return cty.NilVal, diags
	}
	if v.IsNull() {
		return cty.NilVal, diags.Append(attrDiag(attr, "Missing value", fmt.Errorf("%s must not be null", attr.Name)))
	}
	if !v.IsWhollyKnown() {
		return cty.NilVal, diags // an earlier error made it unknown; that error is reported already
	}
	return v, diags
}

func typeError(attr *hcl.Attribute, want string, err error) hcl.Diagnostics {
	return hcl.Diagnostics{attrDiag(attr, "Incorrect attribute value type", fmt.Errorf("%q must be %s: %v", attr.Name, want, err))}
}

func evalString(attr *hcl.Attribute, ctx *hcl.EvalContext) (string, hcl.Diagnostics) {
	v, diags := eval(attr, ctx)
	if v == cty.NilVal {
		return "", diags
	}
	s, err := convert.Convert(v, cty.String)
	if err != nil {
		return "", append(diags, typeError(attr, "a string", err)...)
	}
	return s.AsString(), diags
}

func evalBool(attr *hcl.Attribute, ctx *hcl.EvalContext) (bool, hcl.Diagnostics) {
	v, diags := eval(attr, ctx)
	if v == cty.NilVal {
		return false, diags
	}
	b, err := convert.Convert(v, cty.Bool)
	if err != nil {
		return false, append(diags, typeError(attr, "true or false", err)...)
	}
	return b.True(), diags
}

func evalNumber(attr *hcl.Attribute, ctx *hcl.EvalContext) (*big.Float, hcl.Diagnostics) {
	v, diags := eval(attr, ctx)
	if v == cty.NilVal {
		return nil, diags
	}
	n, err := convert.Convert(v, cty.Number)
	if err != nil {
		return nil, append(diags, typeError(attr, "a number", err)...)
	}
	return n.AsBigFloat(), diags
}

// evalInt reads a whole number within [lo, hi].
func evalInt(attr *hcl.Attribute, ctx *hcl.EvalContext, lo, hi int) (int, hcl.Diagnostics) {
	n, diags := evalNumber(attr, ctx)
	if n == nil {
		return 0, diags
	}
	i, acc := n.Int64()
	if acc != big.Exact || i < int64(lo) || i > int64(hi) {
		return 0, append(diags, attrDiag(attr, "Value out of range", fmt.Errorf("%q must be a whole number from %d to %d, not %s", attr.Name, lo, hi, n.Text('g', 10))))
	}
	return int(i), diags
}

func evalStringList(attr *hcl.Attribute, ctx *hcl.EvalContext) ([]string, hcl.Diagnostics) {
	v, diags := eval(attr, ctx)
	if v == cty.NilVal {
		return nil, diags
	}
	l, err := convert.Convert(v, cty.List(cty.String))
	if err != nil {
		return nil, append(diags, typeError(attr, "a list of strings", err)...)
	}
	var out []string
	for it := l.ElementIterator(); it.Next(); {
		_, e := it.Element()
		out = append(out, e.AsString())
	}
	return out, diags
}

// evalStringMap reads a map of strings, telling a user who put a secret in
// it where secrets go.
func evalStringMap(attr *hcl.Attribute, ctx *hcl.EvalContext) (map[string]string, hcl.Diagnostics) {
	v, diags := eval(attr, ctx)
	if v == cty.NilVal {
		return nil, diags
	}
	if containsSecret(v) {
		return nil, append(diags, attrDiag(attr, "Secret in a plain attribute",
			fmt.Errorf("%q cannot hold secret(...) values: put them in secret_env, which keeps them references until apply", attr.Name)))
	}
	m, err := convert.Convert(v, cty.Map(cty.String))
	if err != nil {
		return nil, append(diags, typeError(attr, "a map of strings", err)...)
	}
	out := map[string]string{}
	for it := m.ElementIterator(); it.Next(); {
		k, e := it.Element()
		out[k.AsString()] = e.AsString()
	}
	return out, diags
}

func containsSecret(v cty.Value) bool {
	if v.Type() == secretType {
		return true
	}
	if v.CanIterateElements() && v.IsKnown() && !v.IsNull() {
		for it := v.ElementIterator(); it.Next(); {
			if _, e := it.Element(); containsSecret(e) {
				return true
			}
		}
	}
	return false
}
