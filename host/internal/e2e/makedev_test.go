package e2e

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// devRoot lays out what scripts/dev.sh uses, as make dev leaves it: the
// script, bin/swarmctl with bin/plugins, and the quickstart, in a
// directory of its own so that the test's .swarm/ is not the developer's.
func devRoot(t *testing.T) string {
	t.Helper()
	bin, err := buildDevBin()
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	for _, f := range []string{"scripts/dev.sh", "examples/topologies/quickstart-compose/main.hcl"} {
		src, err := os.ReadFile(filepath.Join("../../..", f))
		if err == nil {
			err = os.MkdirAll(filepath.Join(root, filepath.Dir(f)), 0o755)
		}
		if err == nil {
			err = os.WriteFile(filepath.Join(root, f), src, 0o755)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(bin, filepath.Join(root, "bin")); err != nil {
		t.Fatal(err)
	}
	if _, err := dockerCLI("tag", echoV1, "alphaswarm/echo:dev"); err != nil { // make images
		t.Fatal(err)
	}
	return root
}

// devPortsFree makes sure nothing holds make dev's fixed ports or runs
// the example already: a developer's own make dev would be in the way.
func devPortsFree(t *testing.T) {
	t.Helper()
	for _, port := range []int{7373, 7374, 18080} {
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			needFree(t, "port %d is in use (is make dev running? make dev-stop ends it)", port)
		}
		l.Close()
	}
	if ids := containerIDs(t, "quick_demo_dev_hello"); len(ids) > 0 {
		needFree(t, "the quickstart's containers run already (make dev-stop removes them)")
	}
}

// needFree fails under CI=true and skips elsewhere, saying why.
func needFree(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format+"; set CI=true to make this a failure", args...)
}

// runDevScript runs scripts/dev.sh in root with args and returns its
// output, failing the test on a non-zero exit.
func runDevScript(t *testing.T, root string, args ...string) string {
	t.Helper()
	cmd := exec.Command("bash", append([]string{filepath.Join(root, "scripts/dev.sh")}, args...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Env = append(os.Environ(), "HOME="+root)
	if err := cmd.Run(); err != nil {
		log, _ := os.ReadFile(filepath.Join(root, ".swarm/dev/server.log"))
		t.Fatalf("dev.sh %v: %v\n%s\nserver log:\n%s", args, err, out.String(), log)
	}
	return out.String()
}

// devServerPid is the pid make dev's server runs under.
func devServerPid(t *testing.T, root string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, ".swarm/dev/server.pid"))
	pid, perr := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || perr != nil {
		t.Fatalf("read the dev server's pid: %v %v", err, perr)
	}
	return pid
}

// TestMakeDevCycle runs the README's cycle with scripts/dev.sh, as make
// dev and make dev-stop run it: make dev, make dev-stop, make dev, the
// example answering over HTTP each time. Then the states make dev must
// survive: its server killed with SIGKILL, and .swarm/ removed while the
// example's containers run (adopted, without replacing them).
func TestMakeDevCycle(t *testing.T) {
	devPortsFree(t)
	root := devRoot(t)
	const project, url = "quick_demo_dev_hello", "http://127.0.0.1:18080/"
	t.Cleanup(func() {
		if _, err := os.Stat(filepath.Join(root, ".swarm/dev/server.pid")); err == nil {
			syscall.Kill(-devServerPid(t, root), syscall.SIGKILL)
		}
		removeContainers(t, project)
	})
	answers := func(step string) {
		t.Helper()
		if !httpAnswers(url, `"ROLE=web"`) {
			t.Fatalf("%s: the example does not answer at %s", step, url)
		}
	}

	out := runDevScript(t, root)
	if !strings.Contains(out, "The example answers at "+url) {
		t.Errorf("make dev:\n%s", out)
	}
	answers("make dev")
	if out := runDevScript(t, root, "stop"); !strings.Contains(out, "demo/dev/hello: destroy succeeded") || !strings.Contains(out, "dev server stopped") {
		t.Errorf("make dev-stop:\n%s", out)
	}
	if ids := containerIDs(t, project); len(ids) != 0 {
		t.Errorf("make dev-stop left %d containers", len(ids))
	}

	out = runDevScript(t, root)
	answers("make dev after make dev-stop")
	if !strings.Contains(out, "Incarnation: 2") || !strings.Contains(out, "destroyed (incarnation 1 ends)") {
		t.Errorf("make dev after make dev-stop does not show the history:\n%s", out)
	}

	syscall.Kill(devServerPid(t, root), syscall.SIGKILL)
	out = runDevScript(t, root)
	answers("make dev after the server was killed")
	if !strings.Contains(out, "No changes.") {
		t.Errorf("make dev after the server was killed:\n%s", out)
	}

	before := containerIDs(t, project)
	syscall.Kill(-devServerPid(t, root), syscall.SIGKILL)
	if err := os.RemoveAll(filepath.Join(root, ".swarm")); err != nil {
		t.Fatal(err)
	}
	out = runDevScript(t, root)
	answers("make dev without .swarm/")
	if !strings.Contains(out, "+ record (the backend runs this deployment already") || !strings.Contains(out, "apply succeeded") {
		t.Errorf("make dev without .swarm/ does not say it adopts the running example:\n%s", out)
	}
	if after := containerIDs(t, project); !slices.Equal(before, after) {
		t.Errorf("adoption replaced containers:\nbefore %v\nafter  %v", before, after)
	}
	if out := runDevScript(t, root, "stop"); !strings.Contains(out, "destroy succeeded") {
		t.Errorf("make dev-stop after adoption:\n%s", out)
	}
	if ids := containerIDs(t, project); len(ids) != 0 {
		t.Errorf("make dev-stop left %d containers", len(ids))
	}
}
