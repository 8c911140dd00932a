package topology

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestLimits loads topologies a hostile tenant could send: each is
// refused with a diagnostic at the place that reached a limit, and none
// takes the process's stack or memory.
func TestLimits(t *testing.T) {
	t.Parallel()
	deep := func(n int) string { return strings.Repeat("(", n) + "1" + strings.Repeat(")", n) }
	for _, tc := range []struct {
		name, src string
		args      []string
		want      string // rendered diagnostic fragment
	}{
		{"nesting a little too deep", "locals {\n  x = " + deep(70) + "\n}\n", nil, "main.hcl:2,70: error: Nesting too deep"},
		{"nesting that would overflow the stack", "locals {\n  x = " + deep(500_000) + "\n}\n", nil, "error: Nesting too deep"},
		{"templates inside each other", "locals {\n  x = " + strings.Repeat(`"${`, 40) + "1" + strings.Repeat(`}"`, 40) + "\n}\n", nil, "error: Nesting too deep"},
		{"negations across lines", "locals {\n  x = (" + strings.Repeat("!\n", 100_000) + "true)\n}\n", nil, "error: Too many operators in a row"},
		{"a run of negations", "locals {\n  x = " + strings.Repeat("!", 500_000) + "true\n}\n", nil, "error: Too many operators in a row"},
		{"too many tokens", "locals {\n  x = [" + strings.Repeat("1,", MaxTokens/2+1) + "]\n}\n", nil, "error: Topology too large"},
		{"for expressions three deep", "locals {\n  x = [for a in [1]: [for b in [1]: [for c in [1]: c]]]\n}\n", nil, "main.hcl:2,37: error: For expressions nest too deep"},
		{"a huge range", "locals {\n  x = range(1000000000)\n}\n", nil, "range() would make 1000000000 elements"},
		{"a padded format", "locals {\n  x = format(\"%01000000000d\", 1)\n}\n", nil, "a width or precision of 1000000000"},
		{"a wide indent", "locals {\n  x = indent(1000000000, \"a\\nb\")\n}\n", nil, "indent by 1000000000 spaces"},
		{"a long join", "locals {\n  s = \"" + strings.Repeat("x", 600_000) + "\"\n  x = join(\"\", [local.s, local.s])\n}\n", nil, "join() would make a string of more than"},
		{"a replace that grows", "locals {\n  x = replace(\"" + strings.Repeat("a", 2000) + "\", \"a\", \"" + strings.Repeat("b", 1000) + "\")\n}\n", nil, "replace() could make a string"},
		{"JSON nested deep", "locals {\n  x = jsondecode(\"" + strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000) + "\")\n}\n", nil, "the JSON nests more than 64 deep"},
		{"two fors over ranges", "locals {\n  x = [for i in range(1024): [for j in range(1024): j]]\n}\n", nil, "the topology's for expressions would evaluate more than 1048576 expressions in all"},
		{"a big body repeated by a for", "locals {\n  x = [for i in range(1024): [" + strings.Repeat("1, ", 5000) + "]]\n}\n", nil, "the topology's for expressions would evaluate more than 1048576 expressions in all"},
		{"a long value from a for", "locals {\n  x = [for i in range(1024): [for j in range(100): j]]\n}\n", nil, "main.hcl:2,7: error: Value too large: This expression makes more than 100000 elements and attributes."},
		{"a template that would be too long", "locals {\n  s = \"" + strings.Repeat("x", 600_000) + "\"\n  x = \"${local.s}${local.s}\"\n}\n", nil, "the string would be 1200000 bytes"},
		{"templates repeated by a for", "locals {\n  s = \"" + strings.Repeat("x", 100_000) + "\"\n  x = [for i in range(1024): \"${local.s}-${i}\"]\n}\n", nil, "the topology's evaluation has made more than 67108864 bytes of strings"},
		{"a template directive repeating a string", "locals {\n  s = \"" + strings.Repeat("x", 100_000) + "\"\n  x = [for j in range(100): \"%{ for i in range(1000) }${local.s}%{ endfor }\"]\n}\n", nil, "error: Error in function call"},
		{"functions repeated by a for", "locals {\n  s = \"" + strings.Repeat("x", 100_000) + "\"\n  x = [for i in range(1024): upper(local.s)]\n}\n", nil, "the topology's evaluation has made more than 67108864 bytes of strings"},
		{"a deep variable value", "variable \"v\" {\n  type = list(any)\n}\n", []string{"v=" + deep(100)}, "error: Nesting too deep"},
		{"a huge string variable", "variable \"v\" {\n  type = string\n}\n", []string{"v=" + strings.Repeat("x", MaxStringBytes+1)}, "error: Value too large"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, diags := LoadSources("t", map[string][]byte{"main.hcl": []byte(tc.src)}, Values{Args: tc.args})
			if got := render(diags); !diags.HasErrors() || !strings.Contains(got, tc.want) {
				t.Errorf("diagnostics:\n%.600s\nwant one containing %q", got, tc.want)
			}
		})
	}
}

// TestManyLocalsLoadInLinearWork loads 16,000 locals that each use the
// one before, declared in reverse order: every value is right. (Their
// evaluation used to cost time quadratic in their number.)
func TestManyLocalsLoadInLinearWork(t *testing.T) {
	t.Parallel()
	const n = 16_000
	var src strings.Builder
	src.WriteString("locals {\n  l0 = 0\n")
	for i := n - 1; i > 0; i-- {
		fmt.Fprintf(&src, "  l%d = local.l%d + 1\n", i, i-1)
	}
	src.WriteString("}\n")
	_, diags := LoadSources("t", map[string][]byte{"main.hcl": []byte(src.String())}, Values{})
	if diags.HasErrors() {
		t.Fatalf("diagnostics:\n%.600s", render(diags))
	}
	top, _ := LoadSources("t", map[string][]byte{"main.hcl": []byte(src.String() + "deployment \"d\" {\n  tenant = \"a\"\n  environment = \"e\"\n  service \"s\" {\n    image = \"i:${local.l15999}\"\n  }\n}\n")}, Values{})
	if d := top.Deployment("d"); d == nil || d.Spec.Services[0].Image != "i:15999" {
		t.Errorf("the last local's value did not reach the deployment: %+v", d)
	}
}

// TestEvaluationStopsWithItsContext loads a topology whose context has
// ended (the request left, or its time ran out): the loader stops before
// evaluating it, saying why.
func TestEvaluationStopsWithItsContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(errors.New("the request ended"))
	src := "locals {\n  a = 1\n  b = local.a + 1\n}\ndeployment \"d\" {\n  tenant = \"t\"\n  environment = \"e\"\n  service \"s\" {\n    image = \"i\"\n  }\n}\n"
	top, diags := LoadSources("t", map[string][]byte{"main.hcl": []byte(src)}, Values{Context: ctx})
	if got := render(diags); !strings.Contains(got, "Evaluation stopped: The topology was not evaluated to the end: the request ended.") {
		t.Errorf("diagnostics:\n%s", got)
	}
	if len(top.Deployments) != 0 {
		t.Errorf("%d deployments evaluated after the context ended", len(top.Deployments))
	}
}
