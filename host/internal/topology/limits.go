package topology

import (
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// Limits on what one topology may make the loader do, whatever its author
// wrote. The loader runs in a controller that serves many tenants, so a
// topology must not take its stack (the parser and the evaluator recurse
// into nested expressions), its memory or its time. Each limit reached is
// an error diagnostic at the place that reached it.
const (
	// MaxTokens bounds the lexical tokens of one topology: its files and
	// the values of its variables together.
	MaxTokens = 500_000
	// MaxNesting bounds brackets, braces, parentheses, quotes and template
	// interpolations inside each other.
	MaxNesting = 64
	// MaxUnaryRun bounds '!' and '-' in a row.
	MaxUnaryRun = 16
	// MaxForNesting bounds for expressions inside each other.
	MaxForNesting = 2
	// MaxRange bounds the elements range() makes.
	MaxRange = 1024
	// MaxFormatWidth bounds the width and precision of a format verb and
	// the spaces of indent().
	MaxFormatWidth = 1024
	// MaxStringBytes bounds one string value.
	MaxStringBytes = 1 << 20
	// MaxValueNodes bounds the elements and attributes of one value,
	// counted through every level.
	MaxValueNodes = 100_000
	// MaxValueBytes bounds the strings of one value, all together.
	MaxValueBytes = 16 << 20
)

// budget counts what a topology has used of the limits that span files,
// and of its evaluation's.
type budget struct {
	tokens int
	eval   evalBudget
}

// scanConfig checks a configuration file before the parser sees it.
func (b *budget) scanConfig(src []byte, filename string) hcl.Diagnostics {
	return b.scan(newScan(src, filename, MaxNesting, MaxUnaryRun))
}

// scanExpression checks an expression given as text (a variable's value)
// before the parser sees it.
func (b *budget) scanExpression(src []byte, filename string) hcl.Diagnostics {
	return b.scan(newScan(src, filename, MaxNesting, MaxUnaryRun))
}

// scan runs a scanner over its source: nesting and runs of unary
// operators, which the parser would otherwise follow as deep as they go,
// and the tokens the topology has so far.
func (b *budget) scan(s *scanLimits) hcl.Diagnostics {
	tooDeep, tooManyUnary := s.run()
	switch {
	case tooDeep:
		return hcl.Diagnostics{limitDiag("Nesting too deep", fmt.Sprintf("Brackets, braces, parentheses, quotes and interpolations nest more than %d deep here.", MaxNesting), s.rng(s.deepAt))}
	case tooManyUnary:
		return hcl.Diagnostics{limitDiag("Too many operators in a row", fmt.Sprintf("More than %d '!' or '-' follow each other here.", MaxUnaryRun), s.rng(s.unaryAt))}
	}
	if b.tokens += s.tokens; b.tokens > MaxTokens {
		return hcl.Diagnostics{limitDiag("Topology too large", fmt.Sprintf("The topology has more than %d tokens (names, numbers, strings, operators); send less.", MaxTokens), s.rng(s.pos()))}
	}
	return nil
}

// checkForNesting walks a parsed file for for expressions nested deeper
// than MaxForNesting, whose iterations multiply.
func checkForNesting(f *hcl.File) hcl.Diagnostics {
	body, ok := f.Body.(*hclsyntax.Body)
	if !ok {
		return nil
	}
	w := &forWalker{}
	hclsyntax.Walk(body, w)
	return w.diags
}

type forWalker struct {
	depth int
	diags hcl.Diagnostics
}

func (w *forWalker) Enter(n hclsyntax.Node) hcl.Diagnostics {
	if _, ok := n.(*hclsyntax.ForExpr); ok {
		if w.depth++; w.depth == MaxForNesting+1 {
			w.diags = append(w.diags, limitDiag("For expressions nest too deep",
				fmt.Sprintf("At most %d for expressions may be inside each other; their iterations multiply.", MaxForNesting), n.Range()))
		}
	}
	return nil
}

func (w *forWalker) Exit(n hclsyntax.Node) hcl.Diagnostics {
	if _, ok := n.(*hclsyntax.ForExpr); ok {
		w.depth--
	}
	return nil
}

func limitDiag(summary, detail string, rng hcl.Range) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: detail, Subject: rng.Ptr()}
}

// checkValue bounds a value an expression produced: the strings in it,
// and its elements and attributes through every level.
func checkValue(v cty.Value) error {
	_, err := measure(v)
	return err
}

// measure returns the bytes of the strings in v, or an error when v
// exceeds the bounds of one value.
func measure(v cty.Value) (int, error) {
	var nodes, bytes int
	var tooBig error
	cty.Walk(v, func(_ cty.Path, v cty.Value) (bool, error) {
		if tooBig != nil || !v.IsKnown() || v.IsNull() {
			return false, nil
		}
		nodes++
		if v.Type() == cty.String {
			n := len(v.AsString())
			bytes += n
			if n > MaxStringBytes {
				tooBig = fmt.Errorf("a string of %d bytes; at most %d are allowed", n, MaxStringBytes)
			}
		}
		switch {
		case nodes > MaxValueNodes:
			tooBig = fmt.Errorf("more than %d elements and attributes", MaxValueNodes)
		case bytes > MaxValueBytes:
			tooBig = fmt.Errorf("more than %d bytes of strings", MaxValueBytes)
		}
		return tooBig == nil, nil
	})
	return bytes, tooBig
}

// checkedValue evaluates expr and bounds its value, as a diagnostic at
// the expression.
func checkedValue(expr hcl.Expression, ctx *hcl.EvalContext) (cty.Value, hcl.Diagnostics) {
	v, diags := expr.Value(ctx)
	if err := checkValue(v); err != nil {
		return cty.DynamicVal, append(diags, limitDiag("Value too large", fmt.Sprintf("This expression makes %v.", err), expr.Range()))
	}
	return v, diags
}
