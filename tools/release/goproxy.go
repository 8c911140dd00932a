package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/mod/module"
	modzip "golang.org/x/mod/zip"
)

// cmdGoproxy writes a module proxy directory serving modules at version
// from the working tree.
func cmdGoproxy(args []string, stdout io.Writer) error {
	fs := newFlags("goproxy")
	root := fs.String("root", ".", "the workspace root")
	version := fs.String("version", "", "the version to serve the modules at, vX.Y.Z")
	out := fs.String("out", "", "the proxy directory to write (GOPROXY=file://<abs out>)")
	if err := parseFlags(fs, args, true); err != nil {
		return err
	}
	if *out == "" {
		return fmt.Errorf("goproxy needs -out DIR: %w", errUsage)
	}
	if err := checkVersion(*version); err != nil {
		return err
	}
	mods := fs.Args()
	if len(mods) == 0 {
		mods = []string{"core", "sdk"}
	}
	epoch, err := sourceDateEpoch(*root)
	if err != nil {
		return err
	}
	if err := writeGoproxy(*root, *version, mods, *out, epoch); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "GOPROXY=file://%s\n", absOr(*out))
	return nil
}

func absOr(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// writeGoproxy writes, for each module folder in mods, the files of the
// GOPROXY protocol ($module/@v/list, $version.info, .mod, .zip) into out,
// the zip made from the files git tracks or would track in that folder. A
// module that requires a sibling at a version this proxy does not serve is
// refused, since "go get" through the proxy would then fail.
func writeGoproxy(root, version string, mods []string, out string, at time.Time) error {
	folders, err := checkGoproxy(root, version, mods)
	if err != nil {
		return err
	}
	for _, f := range folders {
		if err := writeProxyModule(root, f, version, out, at); err != nil {
			return err
		}
	}
	return nil
}

// checkGoproxy returns the folders of mods, after checking that each is
// released and requires its siblings at version, among mods.
func checkGoproxy(root, version string, mods []string) ([]string, error) {
	var folders []string
	for _, m := range mods {
		f, err := moduleFolder(m)
		if err != nil {
			return nil, err
		}
		folders = append(folders, f)
	}
	for _, f := range folders {
		if err := checkServed(root, f, version, folders); err != nil {
			return nil, err
		}
	}
	return folders, nil
}

// checkServed refuses folder's module if it requires a sibling other than
// at version among folders.
func checkServed(root, folder, version string, folders []string) error {
	f, _, err := readMod(root, folder)
	if err != nil {
		return err
	}
	for _, req := range f.Require {
		sib, ok := strings.CutPrefix(req.Mod.Path, modulePrefix)
		if !ok {
			continue
		}
		if req.Mod.Version != version || !slices.Contains(folders, sib) {
			return fmt.Errorf("serve %s %s: it requires %s %s, which this proxy does not serve (serve %s too, or run release setversion %s@%s)",
				folder, version, sib, req.Mod.Version, sib, sib, version)
		}
	}
	return nil
}

// writeProxyModule writes one module's proxy files.
func writeProxyModule(root, folder, version, out string, at time.Time) error {
	mv := module.Version{Path: modulePrefix + folder, Version: version}
	esc, err := module.EscapePath(mv.Path)
	if err != nil {
		return fmt.Errorf("escape module path %s: %w", mv.Path, err)
	}
	dir := filepath.Join(out, filepath.FromSlash(esc), "@v")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create proxy directory: %w", err)
	}
	modDir := filepath.Join(root, folder)
	goMod, err := os.ReadFile(filepath.Join(modDir, "go.mod"))
	if err != nil {
		return fmt.Errorf("read module file: %w", err)
	}
	files, err := moduleFiles(modDir)
	if err != nil {
		return err
	}
	var zipBuf bytes.Buffer
	if err := modzip.Create(&zipBuf, mv, files); err != nil {
		return fmt.Errorf("zip module %s: %w", mv, err)
	}
	info, _ := json.Marshal(struct {
		Version string
		Time    time.Time
	}{version, at.UTC()})
	list, err := mergeList(filepath.Join(dir, "list"), version)
	if err != nil {
		return err
	}
	return writeFiles(dir, map[string][]byte{
		"list": list, version + ".info": info, version + ".mod": goMod, version + ".zip": zipBuf.Bytes(),
	})
}

// mergeList returns the proxy's version list at path with version added.
func mergeList(path, version string) ([]byte, error) {
	old, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return nil, fmt.Errorf("read proxy list: %w", err)
	}
	vers := strings.Fields(string(old))
	if !slices.Contains(vers, version) {
		vers = append(vers, version)
	}
	return []byte(strings.Join(vers, "\n") + "\n"), nil
}

// moduleFiles lists the files of the module in dir as git sees them:
// tracked or untracked but not ignored, and present in the working tree.
// Build outputs and other ignored files stay out of the zip.
func moduleFiles(dir string) ([]modzip.File, error) {
	cmd := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("list files of module %s: %w", dir, err)
	}
	var files []modzip.File
	seen := map[string]bool{}
	for _, rel := range strings.Split(string(out), "\x00") {
		if rel == "" || seen[rel] {
			continue
		}
		seen[rel] = true
		fi, err := os.Lstat(filepath.Join(dir, rel))
		if os.IsNotExist(err) {
			continue // deleted in the working tree
		}
		if err != nil {
			return nil, fmt.Errorf("list files of module %s: %w", dir, err)
		}
		files = append(files, diskFile{dir: dir, rel: filepath.ToSlash(rel), info: fi})
	}
	return files, nil
}

// diskFile is a file of the working tree, for the module zip.
type diskFile struct {
	dir, rel string
	info     os.FileInfo
}

var _ modzip.File = diskFile{}

func (f diskFile) Path() string                 { return f.rel }
func (f diskFile) Lstat() (os.FileInfo, error)  { return f.info, nil }
func (f diskFile) Open() (io.ReadCloser, error) { return os.Open(filepath.Join(f.dir, f.rel)) }
