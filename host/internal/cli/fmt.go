package cli

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/pmezard/go-difflib/difflib"
)

// exitFmtCheck is fmt -check's exit code when files need formatting, as in
// terraform fmt -check.
const exitFmtCheck = 3

func runFmt(e env, args []string) int {
	fs := newFlags(e, "fmt", "fmt [-check] [-diff] [-recursive] [DIR or FILE]")
	check := fs.Bool("check", false, "only report files that need formatting; exit 3 if any do")
	diff := fs.Bool("diff", false, "print the changes as a unified diff")
	recursive := fs.Bool("recursive", false, "also format subdirectories")
	pos, code, ok := fs.parse(args, "[DIR or FILE]")
	if !ok {
		return code
	}
	target := dirArg(pos)
	files, err := hclFiles(target, *recursive)
	if err != nil {
		return e.errorf("%v", err)
	}
	var diags hcl.Diagnostics
	parsed := map[string]*hcl.File{}
	changed := 0
	for _, path := range files {
		src, err := os.ReadFile(path)
		if err != nil {
			return e.errorf("read %s: %v", path, err)
		}
		f, d := hclsyntax.ParseConfig(src, path, hcl.InitialPos)
		parsed[path] = f
		if diags = append(diags, d...); d.HasErrors() {
			continue // never rewrite a file that does not parse
		}
		out := hclwrite.Format(src)
		if bytes.Equal(out, src) {
			continue
		}
		changed++
		fmt.Fprintln(e.stdout, path)
		if *diff {
			fmt.Fprint(e.stdout, unifiedDiff(path, src, out))
		}
		if !*check {
			if err := os.WriteFile(path, out, 0o644); err != nil {
				return e.errorf("write %s: %v", path, err)
			}
		}
	}
	if diags.HasErrors() {
		printDiagnostics(e, diags, parsed)
		return exitError
	}
	if *check && changed > 0 {
		return exitFmtCheck
	}
	return exitOK
}

// hclFiles lists the .hcl files at target: the file itself, or those of the
// directory (and below it, when recursive).
func hclFiles(target string, recursive bool) ([]string, error) {
	st, err := os.Stat(target)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", target, err)
	}
	if !st.IsDir() {
		return []string{target}, nil
	}
	var files []string
	err = filepath.WalkDir(target, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != target && (!recursive || strings.HasPrefix(d.Name(), ".")) {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(path, ".hcl") {
			files = append(files, path)
		}
		return nil
	})
	slices.Sort(files)
	return files, err
}

func unifiedDiff(path string, before, after []byte) string {
	text, _ := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A: difflib.SplitLines(string(before)), B: difflib.SplitLines(string(after)),
		FromFile: path, ToFile: path + " (formatted)", Context: 3,
	})
	return text
}
