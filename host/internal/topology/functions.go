package topology

import (
	"fmt"
	"maps"
	"reflect"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// secretRef is the value of secret("name"): a reference that only
// secret_env accepts. It is a capsule, so it cannot be put into a string.
type secretRef struct{ ref string }

var secretType = cty.Capsule("secret", reflect.TypeOf(secretRef{}))

var secretFunc = function.New(&function.Spec{
	Description: "A reference to a secret in the host's secret store; resolved only when the deployment is applied.",
	Params:      []function.Parameter{{Name: "name", Type: cty.String}},
	Type:        function.StaticReturnType(secretType),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		name := args[0].AsString()
		if name == "" {
			return cty.NilVal, function.NewArgErrorf(0, "a secret name must not be empty")
		}
		return cty.CapsuleVal(secretType, &secretRef{ref: name}), nil
	},
})

// functions are the functions topology expressions may call: the standard
// cty library under Terraform's names, and secret(). Every result is
// bounded (checkValue), and the functions that could make a huge one from
// small arguments check their arguments first.
func functions(b *evalBudget) map[string]function.Function {
	fs := stdFunctions()
	for name, f := range fs {
		fs[name] = bounded(f, preChecks[name], b)
	}
	maps.Copy(fs, b.functions())
	return fs
}

// preChecks refuse, before the call, arguments that would make a result
// too large to build.
var preChecks = map[string]func(args []cty.Value) error{
	"range":      checkRange,
	"format":     checkFormat,
	"formatlist": checkFormat,
	"indent":     checkIndent,
	"join":       checkJoin,
	"replace":    checkReplace,
	"jsondecode": checkJSONNesting,
}

// bounded wraps f: pre, if set, checks the arguments, the result must pass
// checkValue, and its strings count against the evaluation's budget.
func bounded(f function.Function, pre func(args []cty.Value) error, b *evalBudget) function.Function {
	return function.New(&function.Spec{
		Description: f.Description(),
		Params:      f.Params(),
		VarParam:    f.VarParam(),
		Type:        f.ReturnTypeForValues,
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			if pre != nil {
				if err := pre(args); err != nil {
					return cty.NilVal, err
				}
			}
			v, err := f.Call(args)
			if err != nil {
				return v, err
			}
			bytes, err := measure(v)
			if err != nil {
				return cty.NilVal, fmt.Errorf("the result would hold %w", err)
			}
			if err := b.spend(bytes); err != nil {
				return cty.NilVal, err
			}
			return v, nil
		},
	})
}

func stdFunctions() map[string]function.Function {
	return map[string]function.Function{
		"abs": stdlib.AbsoluteFunc, "ceil": stdlib.CeilFunc, "floor": stdlib.FloorFunc,
		"max": stdlib.MaxFunc, "min": stdlib.MinFunc, "parseint": stdlib.ParseIntFunc,
		"chomp": stdlib.ChompFunc, "format": stdlib.FormatFunc, "formatlist": stdlib.FormatListFunc,
		"indent": stdlib.IndentFunc, "join": stdlib.JoinFunc, "lower": stdlib.LowerFunc,
		"upper": stdlib.UpperFunc, "replace": stdlib.ReplaceFunc, "split": stdlib.SplitFunc,
		"strrev": stdlib.ReverseFunc, "substr": stdlib.SubstrFunc, "title": stdlib.TitleFunc,
		"trim": stdlib.TrimFunc, "trimprefix": stdlib.TrimPrefixFunc, "trimsuffix": stdlib.TrimSuffixFunc,
		"trimspace": stdlib.TrimSpaceFunc, "regex": stdlib.RegexFunc, "regexall": stdlib.RegexAllFunc,
		"coalesce": stdlib.CoalesceFunc, "coalescelist": stdlib.CoalesceListFunc, "compact": stdlib.CompactFunc,
		"concat": stdlib.ConcatFunc, "contains": stdlib.ContainsFunc, "distinct": stdlib.DistinctFunc,
		"element": stdlib.ElementFunc, "flatten": stdlib.FlattenFunc, "index": stdlib.IndexFunc,
		"keys": stdlib.KeysFunc, "length": stdlib.LengthFunc, "lookup": stdlib.LookupFunc,
		"merge": stdlib.MergeFunc, "range": stdlib.RangeFunc, "reverse": stdlib.ReverseListFunc,
		"slice": stdlib.SliceFunc, "sort": stdlib.SortFunc, "values": stdlib.ValuesFunc,
		"zipmap": stdlib.ZipmapFunc, "setunion": stdlib.SetUnionFunc, "jsonencode": stdlib.JSONEncodeFunc,
		"jsondecode": stdlib.JSONDecodeFunc, "csvdecode": stdlib.CSVDecodeFunc,
		"tostring": stdlib.MakeToFunc(cty.String), "tonumber": stdlib.MakeToFunc(cty.Number),
		"tobool": stdlib.MakeToFunc(cty.Bool), "tolist": stdlib.MakeToFunc(cty.List(cty.DynamicPseudoType)),
		"tomap":  stdlib.MakeToFunc(cty.Map(cty.DynamicPseudoType)),
		"secret": secretFunc,
	}
}
