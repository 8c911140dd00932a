package topology

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// The expressions that can build large values from small input are string
// templates ("${a}${b}", heredocs, %{ for } directives) and for
// expressions, which repeat their body once per element. Before a file is
// evaluated, loadedFile routes each through a function of the evaluation's
// budget (names a topology cannot spell, since they hold a space): a
// template's pieces are joined only if the strings the evaluation has made
// so far leave room for them, and a for expression iterates only while the
// work of all iterations (each weighted by the size of the expressions it
// evaluates) stays within the evaluation's. Together with the
// bounds on every function's result, this keeps the memory and work of one
// topology's evaluation bounded, whatever it nests.
const (
	templateFunc     = "string template"
	templateJoinFunc = "template directive"
	iterateFunc      = "for expression"
)

// The budget of one evaluation.
const (
	// MaxEvalBytes bounds the bytes of the strings templates and functions
	// make while one topology is evaluated.
	MaxEvalBytes = 64 << 20
	// MaxForWork bounds the work of every for expression of one topology's
	// evaluation, together: each iteration counts the expression nodes its
	// key, value and condition hold.
	MaxForWork = 1 << 20
)

// rewriteBody routes the templates and for expressions of a file through
// the budget's functions.
func rewriteBody(body *hclsyntax.Body) {
	for _, a := range body.Attributes {
		a.Expr = rewrite(a.Expr)
	}
	for _, b := range body.Blocks {
		rewriteBody(b.Body)
	}
}

// rewrite returns e with its templates and for expressions, at any depth,
// routed through the budget's functions.
func rewrite(e hclsyntax.Expression) hclsyntax.Expression {
	switch n := e.(type) {
	case *hclsyntax.TemplateExpr:
		rewriteAll(n.Parts)
		if n.IsStringLiteral() {
			return n
		}
		return call(templateFunc, n.SrcRange, n.Parts...)
	case *hclsyntax.TemplateJoinExpr:
		return call(templateJoinFunc, n.Range(), rewrite(n.Tuple))
	case *hclsyntax.TemplateWrapExpr:
		n.Wrapped = rewrite(n.Wrapped)
	case *hclsyntax.ForExpr:
		n.KeyExpr, n.ValExpr, n.CondExpr = rewriteOpt(n.KeyExpr), rewrite(n.ValExpr), rewriteOpt(n.CondExpr)
		weight := &hclsyntax.LiteralValueExpr{Val: cty.NumberIntVal(int64(1 + nodes(n.KeyExpr) + nodes(n.ValExpr) + nodes(n.CondExpr))), SrcRange: n.CollExpr.Range()}
		n.CollExpr = call(iterateFunc, n.CollExpr.Range(), rewrite(n.CollExpr), weight)
	case *hclsyntax.FunctionCallExpr:
		rewriteAll(n.Args)
	case *hclsyntax.ConditionalExpr:
		n.Condition, n.TrueResult, n.FalseResult = rewrite(n.Condition), rewrite(n.TrueResult), rewrite(n.FalseResult)
	case *hclsyntax.BinaryOpExpr:
		n.LHS, n.RHS = rewrite(n.LHS), rewrite(n.RHS)
	case *hclsyntax.UnaryOpExpr:
		n.Val = rewrite(n.Val)
	case *hclsyntax.ParenthesesExpr:
		n.Expression = rewrite(n.Expression)
	case *hclsyntax.IndexExpr:
		n.Collection, n.Key = rewrite(n.Collection), rewrite(n.Key)
	case *hclsyntax.RelativeTraversalExpr:
		n.Source = rewrite(n.Source)
	case *hclsyntax.SplatExpr:
		n.Source, n.Each = rewrite(n.Source), rewrite(n.Each)
	case *hclsyntax.TupleConsExpr:
		rewriteAll(n.Exprs)
	case *hclsyntax.ObjectConsExpr:
		for i := range n.Items {
			n.Items[i].KeyExpr, n.Items[i].ValueExpr = rewrite(n.Items[i].KeyExpr), rewrite(n.Items[i].ValueExpr)
		}
	case *hclsyntax.ObjectConsKeyExpr:
		n.Wrapped = rewrite(n.Wrapped)
	}
	return e
}

// nodes counts the expression nodes of e.
func nodes(e hclsyntax.Expression) int {
	if e == nil {
		return 0
	}
	n := 0
	hclsyntax.VisitAll(e, func(hclsyntax.Node) hcl.Diagnostics {
		n++
		return nil
	})
	return n
}

func rewriteAll(es []hclsyntax.Expression) {
	for i := range es {
		es[i] = rewrite(es[i])
	}
}

func rewriteOpt(e hclsyntax.Expression) hclsyntax.Expression {
	if e == nil {
		return nil
	}
	return rewrite(e)
}

func call(name string, rng hcl.Range, args ...hclsyntax.Expression) *hclsyntax.FunctionCallExpr {
	return &hclsyntax.FunctionCallExpr{Name: name, Args: args, NameRange: rng, OpenParenRange: rng, CloseParenRange: rng}
}

// evalBudget counts what one evaluation has made.
type evalBudget struct {
	bytes, forWork int
}

// spend adds n bytes of strings made, failing past MaxEvalBytes.
func (b *evalBudget) spend(n int) error {
	if b.bytes += n; b.bytes > MaxEvalBytes {
		return fmt.Errorf("the topology's evaluation has made more than %d bytes of strings", MaxEvalBytes)
	}
	return nil
}

// budgetFunctions are the functions rewrite routes expressions through.
func (b *evalBudget) functions() map[string]function.Function {
	return map[string]function.Function{
		templateFunc:     b.template(),
		templateJoinFunc: b.templateJoin(),
		iterateFunc:      b.iterate(),
	}
}

// template joins a template's pieces, as a string template would.
func (b *evalBudget) template() function.Function {
	return function.New(&function.Spec{
		Description: "Joins the pieces of a string template within the evaluation's budget.",
		VarParam:    &function.Parameter{Name: "piece", Type: cty.String},
		Type:        function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			return b.join(args)
		},
	})
}

// templateJoin joins the strings a %{ for } directive made.
func (b *evalBudget) templateJoin() function.Function {
	return function.New(&function.Spec{
		Description: "Joins the strings of a template directive within the evaluation's budget.",
		Params:      []function.Parameter{{Name: "pieces", Type: cty.List(cty.String)}},
		Type:        function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			return b.join(args[0].AsValueSlice())
		},
	})
}

func (b *evalBudget) join(pieces []cty.Value) (cty.Value, error) {
	size := 0
	for _, p := range pieces {
		size += len(p.AsString())
	}
	if size > MaxStringBytes {
		return cty.NilVal, fmt.Errorf("the string would be %d bytes; at most %d are allowed", size, MaxStringBytes)
	}
	if err := b.spend(size); err != nil {
		return cty.NilVal, err
	}
	var s strings.Builder
	s.Grow(size)
	for _, p := range pieces {
		s.WriteString(p.AsString())
	}
	return cty.StringVal(s.String()), nil
}

// iterate lets a for expression iterate over its collection, counting its
// elements, each weighted by the expressions an iteration evaluates,
// against the evaluation's work.
func (b *evalBudget) iterate() function.Function {
	return function.New(&function.Spec{
		Description: "Counts a for expression's work against the evaluation's budget.",
		Params: []function.Parameter{
			{Name: "collection", Type: cty.DynamicPseudoType, AllowNull: true, AllowDynamicType: true, AllowMarked: true},
			{Name: "weight", Type: cty.Number},
		},
		Type: func(args []cty.Value) (cty.Type, error) { return args[0].Type(), nil },
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			v := args[0]
			if v.IsNull() || !v.CanIterateElements() {
				return v, nil // the for expression says what is wrong with it
			}
			weight, _ := args[1].AsBigFloat().Int64()
			if b.forWork += v.LengthInt() * int(weight); b.forWork > MaxForWork {
				return cty.NilVal, fmt.Errorf("the topology's for expressions would evaluate more than %d expressions in all", MaxForWork)
			}
			return v, nil
		},
	})
}
