package topology

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// lexerDepth measures nesting with HCL's own lexer, as the scanner must.
func lexerDepth(src []byte) (depth, tokens int) {
	toks, _ := hclsyntax.LexConfig(src, "x.hcl", hcl.InitialPos)
	d := 0
	for _, t := range toks {
		switch t.Type {
		case hclsyntax.TokenOBrace, hclsyntax.TokenOBrack, hclsyntax.TokenOParen, hclsyntax.TokenOQuote,
			hclsyntax.TokenOHeredoc, hclsyntax.TokenTemplateInterp, hclsyntax.TokenTemplateControl:
			d++
			depth = max(depth, d)
		case hclsyntax.TokenCBrace, hclsyntax.TokenCBrack, hclsyntax.TokenCParen, hclsyntax.TokenCQuote,
			hclsyntax.TokenCHeredoc, hclsyntax.TokenTemplateSeqEnd:
			d--
		case hclsyntax.TokenNewline, hclsyntax.TokenEOF, hclsyntax.TokenComment:
			continue
		}
		tokens++
	}
	return depth, tokens
}

// TestScanAgreesWithTheLexer scans the examples, the test topologies and
// sources built to fool a byte scanner (brackets in strings, comments and
// heredocs, escaped interpolations, templates inside templates): its depth
// is the lexer's, and its token count is within a factor of two of it.
func TestScanAgreesWithTheLexer(t *testing.T) {
	t.Parallel()
	sources := map[string][]byte{
		"brackets in strings and comments": []byte("x = \"([{\" # ((((\ny = 1 // [[[\n/* {{{{ */ z = [1]\n"),
		"escaped interpolations":           []byte("x = \"$${a} %%{b} ${c}\"\n"),
		"templates in templates":           []byte("x = \"${\"${\"${a}\"}\"}\"\ny = \"%{ for v in l }${v}%{ endfor }\"\n"),
		"a heredoc":                        []byte("x = <<EOT\n  ((( ${ [1, [2]] } }}}\n  EOT\ny = <<-X\n  ${a}\n  X\nz = [[1]]\n"),
		"braces inside an interpolation":   []byte("x = \"${ {a = {b = 1}}.a.b }\"\n"),
		"escaped quotes":                   []byte("x = \"a\\\"(((\\\\\"\ny = [\"]\"]\n"),
	}
	for _, dir := range []string{"../../../examples/topologies/*/*.hcl", "testdata/bad/*/*.hcl"} {
		paths, _ := filepath.Glob(dir)
		for _, p := range paths {
			src, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			sources[p] = src
		}
	}
	if len(sources) < 10 {
		t.Fatalf("only %d sources found", len(sources))
	}
	for name, src := range sources {
		wantDepth, wantTokens := lexerDepth(src)
		s := newScan(src, name, 1<<30, 1<<30)
		s.run()
		if s.maxDepth != wantDepth {
			t.Errorf("%s: depth %d, the lexer's %d", name, s.maxDepth, wantDepth)
		}
		if s.tokens < wantTokens/2 || s.tokens > 2*wantTokens+2 {
			t.Errorf("%s: %d tokens, the lexer's %d", name, s.tokens, wantTokens)
		}
	}
}
