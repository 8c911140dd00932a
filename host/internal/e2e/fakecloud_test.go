package e2e

import (
	"bufio"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alphaswarm/controller/host/internal/testbin"
)

// fakeCloud is a cloud plugin's fake (an emulator of the cloud's APIs)
// running as a process of its own, built from its package: it stops when
// its stdin closes, and announces on stdout, one line each, what the test
// needs to reach it ("listening on ADDR", then whatever it adds).
type fakeCloud struct {
	t   *testing.T
	out *bufio.Reader
}

// startFakeCloud builds pkg and runs it with args until the test ends.
func startFakeCloud(t *testing.T, pkg string, args ...string) *fakeCloud {
	t.Helper()
	bin := filepath.Join(t.TempDir(), path.Base(pkg))
	if err := testbin.Build(pkg, bin); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); cmd.Wait() })
	return &fakeCloud{t: t, out: bufio.NewReader(out)}
}

// announced reads the fake's next line, which must start with prefix, and
// returns the rest of it.
func (f *fakeCloud) announced(prefix string) string {
	f.t.Helper()
	line, err := f.out.ReadString('\n')
	v, ok := strings.CutPrefix(strings.TrimSpace(line), prefix)
	if err != nil || !ok {
		f.t.Fatalf("the fake said %q, want %q...: %v", line, prefix, err)
	}
	return v
}
