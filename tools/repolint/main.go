// Command repolint checks rules of the repository that the compiler does
// not: the module import rules of DESIGN.md, read from "go list -deps" in
// every module of the workspace (no plugin imports host, host imports no
// plugin and no backend SDK, sdk and core import neither, each plugin imports
// only its own backend's SDK; test imports count too), and a package doc
// comment in every package. It prints one line per finding and exits 1 if
// there is any.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

func main() {
	root := flag.String("root", ".", "workspace root (the directory with go.work)")
	flag.Parse()
	found, err := lint(*root)
	if err != nil {
		fmt.Fprintf(os.Stderr, "repolint: %v\n", err)
		os.Exit(2)
	}
	for _, f := range found {
		fmt.Println(f)
	}
	if len(found) > 0 {
		fmt.Fprintf(os.Stderr, "repolint: %d finding(s)\n", len(found))
		os.Exit(1)
	}
}

// lint checks every module of the workspace at root.
func lint(root string) ([]string, error) {
	modules, err := workspaceModules(root)
	if err != nil {
		return nil, err
	}
	var found []string
	for _, m := range modules {
		pkgs, err := listPackages(filepath.Join(root, m))
		if err != nil {
			return nil, err
		}
		rules := rulesFor(m)
		for _, p := range pkgs {
			if p.doc == "" && !p.test {
				found = append(found, fmt.Sprintf("%s: no package doc comment (say what the package is for)", p.path))
			}
			for _, dep := range p.deps {
				if r, bad := violation(rules, dep); bad {
					found = append(found, fmt.Sprintf("%s: imports %s (%s)", p.path, dep, r.why))
				}
			}
		}
	}
	return found, nil
}

// workspaceModules lists the module directories of go.work, relative to root.
func workspaceModules(root string) ([]string, error) {
	cmd := exec.Command("go", "work", "edit", "-json")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("read go.work in %s: %w", root, err)
	}
	var work struct {
		Use []struct{ DiskPath string }
	}
	if err := json.Unmarshal(out, &work); err != nil {
		return nil, fmt.Errorf("read go.work: %w", err)
	}
	var mods []string
	for _, u := range work.Use {
		mods = append(mods, filepath.ToSlash(filepath.Clean(u.DiskPath)))
	}
	return mods, nil
}

type pkg struct {
	path, doc string
	test      bool // a test variant, "p [p.test]" or "p_test"
	deps      []string
}

// listPackages lists the packages of the module in dir, test variants
// included, with their doc comment and every package they depend on.
func listPackages(dir string) ([]pkg, error) {
	cmd := exec.Command("go", "list", "-test", "-json=ImportPath,Doc,Deps,ForTest,Name", "./...")
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list in %s: %v\n%s", dir, err, stderr.String())
	}
	var pkgs []pkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var p struct {
			ImportPath, Doc, ForTest, Name string
			Deps                           []string
		}
		if err := dec.Decode(&p); err != nil {
			return nil, fmt.Errorf("go list in %s: %w", dir, err)
		}
		test := p.ForTest != "" || strings.HasSuffix(p.ImportPath, ".test") || strings.HasSuffix(p.Name, "_test")
		pkgs = append(pkgs, pkg{path: p.ImportPath, doc: p.Doc, test: test, deps: p.Deps})
	}
	slices.SortFunc(pkgs, func(a, b pkg) int { return strings.Compare(a.path, b.path) })
	return pkgs, nil
}
