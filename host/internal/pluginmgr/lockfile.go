package pluginmgr

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
)

// DefaultLockFile is the lock file's name, kept in git beside the topology.
const DefaultLockFile = ".swarm.lock.hcl"

// LockFile pins each plugin to the SHA-256 hashes of its binaries.
type LockFile struct {
	Plugins []LockedPlugin `hcl:"plugin,block"`
}

// LockedPlugin is one plugin's entry.
type LockedPlugin struct {
	Name    string   `hcl:"name,label"`
	Version string   `hcl:"version,optional"`
	Hashes  []string `hcl:"hashes"`
}

// Find returns the entry for name, or nil.
func (l *LockFile) Find(name string) *LockedPlugin {
	for i := range l.Plugins {
		if l.Plugins[i].Name == name {
			return &l.Plugins[i]
		}
	}
	return nil
}

// ReadLockFile reads path. A missing file is not an error: it returns nil.
func ReadLockFile(path string) (*LockFile, error) {
	src, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read lock file: %w", err)
	}
	f, diags := hclparse.NewParser().ParseHCL(src, path)
	if diags.HasErrors() {
		return nil, fmt.Errorf("read lock file: %w", diags)
	}
	var lf LockFile
	if diags := gohcl.DecodeBody(f.Body, nil, &lf); diags.HasErrors() {
		return nil, fmt.Errorf("read lock file: %w", diags)
	}
	for _, p := range lf.Plugins {
		for _, h := range p.Hashes {
			if _, ok := strings.CutPrefix(h, "sha256:"); !ok || len(h) != len("sha256:")+64 {
				return nil, fmt.Errorf("read lock file %s: plugin %q: hash %q is not sha256:<64 hex digits>", path, p.Name, h)
			}
		}
	}
	return &lf, nil
}

// Write writes the lock file to path, plugins sorted by name.
func (l *LockFile) Write(path string) error {
	f := hclwrite.NewEmptyFile()
	body := f.Body()
	body.AppendUnstructuredTokens(hclwrite.Tokens{{Type: hclsyntax.TokenComment, Bytes: []byte(
		"# This file is maintained by \"swarmctl plugins lock\". Commit it with your topology:\n" +
			"# the host refuses to launch a plugin binary whose SHA-256 is not listed here.\n\n")}})
	plugins := slices.Clone(l.Plugins)
	slices.SortFunc(plugins, func(a, b LockedPlugin) int { return strings.Compare(a.Name, b.Name) })
	for i, p := range plugins {
		if i > 0 {
			body.AppendNewline()
		}
		b := body.AppendNewBlock("plugin", []string{p.Name}).Body()
		if p.Version != "" {
			b.SetAttributeValue("version", cty.StringVal(p.Version))
		}
		b.SetAttributeRaw("hashes", listTokens(p.Hashes))
	}
	if err := WriteFileAtomic(path, hclwrite.Format(f.Bytes())); err != nil {
		return fmt.Errorf("write lock file: %w", err)
	}
	return nil
}

// WriteFileAtomic writes data (mode 0644) to a temporary file beside path,
// syncs it and renames it over path, so that a reader sees the old file or
// the new one, never part of one. The lock file and plugin mirrors use it.
func WriteFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-")
	if err != nil {
		return err
	}
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Chmod(0o644)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}

// listTokens renders a list of strings one per line, as Terraform's lock
// file does, so that a changed hash is a one-line diff.
func listTokens(items []string) hclwrite.Tokens {
	nl := &hclwrite.Token{Type: hclsyntax.TokenNewline, Bytes: []byte("\n")}
	toks := hclwrite.Tokens{{Type: hclsyntax.TokenOBrack, Bytes: []byte("[")}}
	if len(items) > 0 {
		toks = append(toks, nl)
	}
	for _, it := range items {
		toks = append(toks, hclwrite.TokensForValue(cty.StringVal(it))...)
		toks = append(toks, &hclwrite.Token{Type: hclsyntax.TokenComma, Bytes: []byte(",")}, nl)
	}
	return append(toks, &hclwrite.Token{Type: hclsyntax.TokenCBrack, Bytes: []byte("]")})
}
