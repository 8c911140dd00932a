package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// openPTY opens a pseudo-terminal pair: the master, which the test reads
// and writes like a terminal emulator, and the slave, which swarmctl gets as
// its standard streams.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close(); s.Close() })
	return m, s
}

// screen collects what swarmctl writes to the terminal.
type screen struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *screen) read(master *os.File) {
	b := make([]byte, 4096)
	for {
		n, err := master.Read(b)
		s.mu.Lock()
		s.buf.Write(b[:n])
		s.mu.Unlock()
		if err != nil {
			return
		}
	}
}

func (s *screen) waitFor(t *testing.T, want string) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		s.mu.Lock()
		got := s.buf.String()
		s.mu.Unlock()
		if strings.Contains(got, want) {
			return
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t.Fatalf("the terminal never showed %q; it shows %q", want, s.buf.String())
}

func lflag(t *testing.T, f *os.File) uint32 {
	t.Helper()
	tio, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	return tio.Lflag & (unix.ICANON | unix.ECHO | unix.ISIG)
}

// TestInteractiveExec runs swarmctl on a real pseudo-terminal, as a user at
// a terminal would: exec -t and -it (the remote side sees the terminal's
// size, input reaches the command, the exit code comes back, the terminal
// leaves raw mode afterwards, even on SIGTERM), and destroy's confirmation.
func TestInteractiveExec(t *testing.T) {
	d := startDev(t)
	t.Setenv("ALPHASWARM_CONTROLLER_URL", d.url)
	t.Setenv("ALPHASWARM_TOKEN", d.token)
	dir := writeTopology(t, `
backend "memory" "sim" {}

deployment "tty" {
  tenant      = "demo"
  environment = "dev"
  backend     = backend.memory.sim

  service "api" {
    image = "api:1"
  }
}
`)
	if code, out, errOut := swarmctl(t, "apply", "-auto-approve", dir); code != 0 {
		t.Fatalf("apply: %d\n%s%s", code, out, errOut)
	}
	bin, err := buildDevBin()
	if err != nil {
		t.Fatal(err)
	}
	start := func(args ...string) (*exec.Cmd, *screen, *os.File, *os.File) {
		t.Helper()
		master, slave := openPTY(t)
		if err := unix.IoctlSetWinsize(int(master.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 40, Col: 100}); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(filepath.Join(bin, "swarmctl"), args...)
		cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
		cmd.Env = []string{"ALPHASWARM_CONTROLLER_URL=" + d.url, "ALPHASWARM_TOKEN=" + d.token, "HOME=" + t.TempDir()}
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		scr := &screen{}
		go scr.read(master)
		return cmd, scr, master, slave
	}
	exitCode := func(cmd *exec.Cmd) int {
		t.Helper()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			t.Fatal("swarmctl exec did not end")
		}
		return cmd.ProcessState.ExitCode()
	}

	t.Run("the terminal size reaches the command", func(t *testing.T) {
		cmd, scr, _, slave := start("exec", "-t", "demo/tty", "api", "stty", "size")
		cooked := lflag(t, slave)
		scr.waitFor(t, "40 100")
		if code := exitCode(cmd); code != 0 {
			t.Errorf("exit %d", code)
		}
		if got := lflag(t, slave); got != cooked {
			t.Errorf("the terminal was left in raw mode: lflag %#x, was %#x", got, cooked)
		}
	})
	t.Run("the exit code comes back", func(t *testing.T) {
		cmd, _, _, _ := start("exec", "-t", "demo/tty", "api", "exit", "7")
		if code := exitCode(cmd); code != 7 {
			t.Errorf("exit %d, want 7", code)
		}
	})
	t.Run("input reaches the command and SIGTERM restores the terminal", func(t *testing.T) {
		cmd, scr, master, slave := start("exec", "-it", "demo/tty", "api", "cat")
		cooked := lflag(t, slave)
		time.Sleep(500 * time.Millisecond) // the session is up and the terminal raw
		if _, err := master.Write([]byte("typed at the terminal\r")); err != nil {
			t.Fatal(err)
		}
		scr.waitFor(t, "typed at the terminal")
		cmd.Process.Signal(syscall.SIGTERM)
		if code := exitCode(cmd); code != 130 {
			t.Errorf("exit %d after SIGTERM, want 130", code)
		}
		if got := lflag(t, slave); got != cooked {
			t.Errorf("the terminal was left in raw mode after SIGTERM: lflag %#x, was %#x", got, cooked)
		}
	})
	t.Run("destroy asks for confirmation at the terminal", func(t *testing.T) {
		cmd, scr, master, _ := start("destroy", "demo/tty")
		scr.waitFor(t, "Enter a value:")
		master.Write([]byte("no\r"))
		scr.waitFor(t, "Destroy cancelled.")
		if code := exitCode(cmd); code != 1 {
			t.Errorf("exit %d after answering no, want 1", code)
		}
		cmd, scr, master, _ = start("destroy", "demo/tty")
		scr.waitFor(t, "Enter a value:")
		master.Write([]byte("yes\r"))
		scr.waitFor(t, "demo/dev/tty: destroy succeeded")
		if code := exitCode(cmd); code != 0 {
			t.Errorf("exit %d after answering yes", code)
		}
	})
}
