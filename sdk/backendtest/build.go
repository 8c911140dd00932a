package backendtest

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
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
// does not build. The binaries of a test process live in a directory of its
// own under the system's temporary directory, which the next test process
// to build removes once this one has ended. The kit's own child test
// processes (which re-run the test binary) reuse their parent's build.
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

// binariesDir is where the binaries of the test processes live, one
// directory per process id.
var binariesDir = filepath.Join(os.TempDir(), "alphaswarm-backendtest")

var sweep sync.Once

func buildInto(pkg, key string) (string, error) {
	sweep.Do(removeDeadProcessDirs)
	dir := filepath.Join(binariesDir, strconv.Itoa(os.Getpid()), key)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("build plugin %s: %w", pkg, err)
	}
	name := filepath.Base(strings.TrimRight(filepath.ToSlash(pkg), "/"))
	if name == "." || name == "/" {
		if wd, err := os.Getwd(); err == nil {
			name = filepath.Base(wd)
		}
	}
	path := filepath.Join(dir, name)
	if err := BuildPlugin(pkg, path); err != nil {
		return "", err
	}
	return path, nil
}

// removeDeadProcessDirs removes the binaries of test processes that have
// ended.
func removeDeadProcessDirs() {
	entries, _ := os.ReadDir(binariesDir)
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		if p, err := os.FindProcess(pid); err == nil {
			err = p.Signal(syscall.Signal(0))
			if !errors.Is(err, os.ErrProcessDone) && !errors.Is(err, syscall.ESRCH) {
				continue // alive, or not ours to ask
			}
		}
		os.RemoveAll(filepath.Join(binariesDir, e.Name()))
	}
}
