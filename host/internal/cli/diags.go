package cli

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// jsonDiagnostic is the -json form of a diagnostic.
type jsonDiagnostic struct {
	Severity string `json:"severity"`
	Summary  string `json:"summary"`
	Detail   string `json:"detail,omitempty"`
	File     string `json:"file,omitempty"`
	Line     int    `json:"line,omitempty"`
	Column   int    `json:"column,omitempty"`
	EndLine  int    `json:"end_line,omitempty"`
	EndCol   int    `json:"end_column,omitempty"`
	Snippet  string `json:"snippet,omitempty"`
}

func toJSONDiagnostics(diags hcl.Diagnostics, files map[string]*hcl.File) []jsonDiagnostic {
	out := make([]jsonDiagnostic, 0, len(diags))
	for _, d := range diags {
		j := jsonDiagnostic{Severity: "error", Summary: d.Summary, Detail: d.Detail}
		if d.Severity == hcl.DiagWarning {
			j.Severity = "warning"
		}
		if d.Subject != nil {
			j.File, j.Line, j.Column = d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column
			j.EndLine, j.EndCol = d.Subject.End.Line, d.Subject.End.Column
			j.Snippet = snippet(files[d.Subject.Filename], *d.Subject)
		}
		out = append(out, j)
	}
	return out
}

// snippet is the source line(s) a range covers.
func snippet(f *hcl.File, r hcl.Range) string {
	if f == nil {
		return ""
	}
	lines := strings.Split(string(f.Bytes), "\n")
	if r.Start.Line < 1 || r.Start.Line > len(lines) {
		return ""
	}
	end := min(max(r.End.Line, r.Start.Line), len(lines))
	return strings.Join(lines[r.Start.Line-1:end], "\n")
}

// printDiagnostics writes diags as text with source snippets, as Terraform does.
func printDiagnostics(e env, diags hcl.Diagnostics, files map[string]*hcl.File) {
	if len(diags) == 0 {
		return
	}
	w := hcl.NewDiagnosticTextWriter(e.stderr, files, 100, false)
	w.WriteDiagnostics(diags)
}

func writeJSON(e env, v any) {
	out, _ := json.MarshalIndent(v, "", "  ")
	fmt.Fprintln(e.stdout, string(out))
}

func countSeverity(diags hcl.Diagnostics, errors bool) int {
	n := 0
	for _, d := range diags {
		if (d.Severity == hcl.DiagError) == errors {
			n++
		}
	}
	return n
}

// writeJSONLine writes v as one line of JSON, for streams of objects.
func writeJSONLine(e env, v any) {
	out, _ := json.Marshal(v)
	fmt.Fprintln(e.stdout, string(out))
}
