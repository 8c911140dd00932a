package backendtest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// BuildPlugin compiles the plugin's main package pkg (an import path, or a
// directory such as ".") into a static binary at path.
func BuildPlugin(pkg, path string) error {
	cmd := exec.Command("go", "build", "-o", path, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build plugin %s: %w\n%s", pkg, err, out)
	}
	return nil
}

var builds sync.Map // key -> *build

type build struct {
	once sync.Once
	path string
	err  error
}

// Binary builds the plugin's main package pkg (an import path, or a
// directory relative to the test's package such as "./cmd/swarm-backend-x")
// once per test process and returns the binary's path, failing t when it
// does not build. The binary lives in the user's cache directory, one per
// package, replaced atomically by each build, so nothing is left behind in
// temporary directories and a test's child processes (the kit's own, which
// re-run the test binary) reuse the parent's build rather than build again.
func Binary(t testing.TB, pkg string) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatalf("build plugin %s: %v", pkg, err)
	}
	sum := sha256.Sum256([]byte(wd + "\x00" + pkg))
	key := hex.EncodeToString(sum[:8])
	env := "ALPHASWARM_BACKENDTEST_BINARY_" + key
	v, _ := builds.LoadOrStore(key, &build{})
	b := v.(*build)
	b.once.Do(func() {
		if p := os.Getenv(env); p != "" {
			if _, err := os.Stat(p); err == nil {
				b.path = p
				return
			}
		}
		b.path, b.err = buildInto(pkg, key)
		if b.err == nil {
			os.Setenv(env, b.path) // inherited by child test processes
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

func buildInto(pkg, key string) (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	dir = filepath.Join(dir, "alphaswarm", "backendtest", key)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("build plugin %s: %w", pkg, err)
	}
	name := filepath.Base(strings.TrimRight(filepath.ToSlash(pkg), "/"))
	if name == "." || name == "/" {
		if wd, err := os.Getwd(); err == nil {
			name = filepath.Base(wd)
		}
	}
	tmp, err := os.CreateTemp(dir, name+".*.tmp")
	if err != nil {
		return "", fmt.Errorf("build plugin %s: %w", pkg, err)
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	if err := BuildPlugin(pkg, tmp.Name()); err != nil {
		return "", err
	}
	path := filepath.Join(dir, name)
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", fmt.Errorf("build plugin %s: %w", pkg, err)
	}
	return path, nil
}
