package compat

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// baseCommit is the last commit before the host's half of the SDK moved out
// of package sdk (to sdk/pluginhost): its host calls sdk.Launch, and its
// plugins are what third parties built against protocol 1 first.
const baseCommit = "0ebce69"

// probeDir holds the probe host's source, built in both trees.
const probeDir = "testdata/probe"

// TestProtocol1AcrossVersions builds a probe host and the memory example
// plugin from baseCommit and from this tree, and runs the probe, which
// drives every operation of protocol 1, for each pairing of host and
// plugin across a real process boundary (launch, handshake, mutual TLS).
//
// Each run checks the answers itself; besides, a plugin must answer an old
// and a new host alike: the transcript of the new host with the old plugin
// equals the old host's with it, and the old host's with the new plugin
// equals the new host's.
func TestProtocol1AcrossVersions(t *testing.T) {
	root := repoRoot(t)
	requireCommit(t, root, baseCommit)
	work := t.TempDir()

	oldTree := filepath.Join(work, "old")
	extract(t, root, baseCommit, oldTree)
	// The probe goes into the old tree as a package of its host module, so
	// that it compiles against the old SDK through the old go.work.
	oldProbe := filepath.Join(oldTree, "host", "internal", "compatprobe")
	copyDir(t, probeDir, oldProbe)

	type build struct {
		tree, tags string
		pkgs       []string
		bin        string
	}
	builds := []build{
		{tree: oldTree, tags: "compat_old", pkgs: []string{"./host/internal/compatprobe", "./examples/backend-memory"},
			bin: filepath.Join(work, "bin-old")},
		{tree: root, pkgs: []string{"./host/internal/compat/" + probeDir, "./examples/backend-memory/cmd/swarm-backend-memory"},
			bin: filepath.Join(work, "bin-new")},
	}
	var wg sync.WaitGroup
	errs := make([]error, len(builds))
	for i, b := range builds {
		wg.Go(func() { errs[i] = goBuild(b.tree, b.tags, b.bin, b.pkgs...) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	hosts := map[string]string{
		"old": filepath.Join(work, "bin-old", "compatprobe"),
		"new": filepath.Join(work, "bin-new", "probe"),
	}
	plugins := map[string]string{
		"old": filepath.Join(work, "bin-old", "backend-memory"),
		"new": filepath.Join(work, "bin-new", "swarm-backend-memory"),
	}

	pairs := []struct{ host, plugin string }{
		{"old", "new"}, // a host of base commit, a plugin of this tree
		{"new", "old"}, // a host of this tree, a plugin of base commit
		{"new", "new"}, // the control
		{"old", "old"}, // the old plugin's answers to the old host, to compare with
	}
	transcripts := make(map[string]string)
	var mu sync.Mutex
	t.Run("pairs", func(t *testing.T) {
		for _, p := range pairs {
			name := p.host + "_host+" + p.plugin + "_plugin"
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				out := runProbe(t, hosts[p.host], plugins[p.plugin])
				mu.Lock()
				transcripts[name] = out
				mu.Unlock()
			})
		}
	})
	if t.Failed() {
		return
	}
	for _, cmp := range [][2]string{
		{"new_host+old_plugin", "old_host+old_plugin"},
		{"old_host+new_plugin", "new_host+new_plugin"},
	} {
		if got, want := transcripts[cmp[0]], transcripts[cmp[1]]; got != want {
			t.Errorf("the plugin answered %s otherwise than %s:\n--- %s\n%s--- %s\n%s", cmp[0], cmp[1], cmp[0], got, cmp[1], want)
		}
	}
	t.Logf("new host + old plugin:\n%s", transcripts["new_host+old_plugin"])
}

// runProbe runs the probe host against plugin and returns its transcript.
func runProbe(t *testing.T, host, plugin string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, host, "-plugin", plugin)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("run probe: %v\nstderr:\n%s\ntranscript so far:\n%s", err, stderr.String(), stdout.String())
	}
	return stdout.String()
}

// repoRoot is the top of the git work tree this test runs in.
func repoRoot(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		missing(t, fmt.Sprintf("find the repository: git rev-parse: %v (the test needs the source in a git checkout)", err))
	}
	return strings.TrimSpace(string(out))
}

// requireCommit fails under CI, and skips elsewhere, when commit is not in
// the repository's history (a shallow clone, a source archive).
func requireCommit(t *testing.T, root, commit string) {
	t.Helper()
	cmd := exec.Command("git", "cat-file", "-e", commit+"^{commit}")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		missing(t, fmt.Sprintf("commit %s, the base of the compatibility test, is not in the repository's history "+
			"(fetch it, or the full history: git fetch --unshallow): %v %s", commit, err, bytes.TrimSpace(out)))
	}
}

func missing(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal(why)
	}
	t.Skip(why)
}

// extract writes the tree of commit into dir, with git archive.
func extract(t *testing.T, root, commit, dir string) {
	t.Helper()
	cmd := exec.Command("git", "archive", "--format=tar", commit)
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatalf("git archive %s: %v", commit, err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("git archive %s: %v", commit, err)
	}
	untarErr := untar(out, dir)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("git archive %s: %v: %s", commit, err, stderr.String())
	}
	if untarErr != nil {
		t.Fatalf("extract %s: %v", commit, untarErr)
	}
}

func untar(r io.Reader, dir string) error {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read archive: %w", err)
		}
		name := filepath.Clean(filepath.FromSlash(h.Name))
		if !filepath.IsLocal(name) {
			return fmt.Errorf("read archive: entry %q leaves the tree", h.Name)
		}
		path := filepath.Join(dir, name)
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(path, 0o755); err != nil {
				return fmt.Errorf("create directory: %w", err)
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				return fmt.Errorf("create directory: %w", err)
			}
			f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, os.FileMode(h.Mode)&0o777)
			if err != nil {
				return fmt.Errorf("create file: %w", err)
			}
			_, err = io.Copy(f, tr)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return fmt.Errorf("write %s: %w", h.Name, err)
			}
		case tar.TypeSymlink:
			if err := os.Symlink(h.Linkname, path); err != nil {
				return fmt.Errorf("create symlink: %w", err)
			}
		}
	}
}

// copyDir copies the Go files of src into dst.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(src, "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("read probe sources in %s: %v", src, err)
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, filepath.Base(f)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// goBuild builds pkgs of the workspace at tree into dir, with that tree's
// own go.work and nothing of the caller's module settings (no -mod=mod).
// Modules come from the cache, or from the module proxy when the old tree
// needs a version the new one no longer does (a cold cache in CI).
func goBuild(tree, tags, dir string, pkgs ...string) error {
	args := []string{"build", "-trimpath", "-o", dir + string(filepath.Separator)}
	if tags != "" {
		args = append(args, "-tags", tags)
	}
	cmd := exec.Command("go", append(args, pkgs...)...)
	cmd.Dir = tree
	cmd.Env = append(os.Environ(),
		"GOWORK="+filepath.Join(tree, "go.work"), "GOFLAGS=-buildvcs=false", "CGO_ENABLED=0",
		"GOTOOLCHAIN=local")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build %s in %s: %w\n%s", strings.Join(pkgs, " "), tree, err, out)
	}
	return nil
}
