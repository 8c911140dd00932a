package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/alphaswarm/controller/host/internal/backends"
	"github.com/alphaswarm/controller/host/internal/cli"
	"github.com/alphaswarm/controller/host/internal/testbin"
)

// devServer is a real "swarmctl dev" process with the memory and compose
// plugins beside its binary, as make build lays them out.
type devServer struct {
	url, token, dir string
	cmd             *exec.Cmd
	exited          chan struct{} // closed once cmd has been waited for
	log             *bytes.Buffer
}

var (
	devBinOnce sync.Once
	devBin     string
	devBinErr  error
)

// buildDevBin lays out swarmctl and its plugins once for every dev test.
func buildDevBin() (string, error) {
	devBinOnce.Do(func() {
		devBin = filepath.Join(filepath.Dir(pluginDir), "devbin")
		for pkg, path := range map[string]string{
			"github.com/alphaswarm/controller/host/cmd/swarmctl": filepath.Join(devBin, "swarmctl"),
			testbin.MemoryPlugin:     filepath.Join(devBin, "plugins", "swarm-backend-memory"),
			testbin.KubernetesPlugin: filepath.Join(devBin, "plugins", "swarm-backend-kubernetes"),
			testbin.GCPPlugin:        filepath.Join(devBin, "plugins", "swarm-backend-gcp"),
		} {
			if devBinErr = testbin.Build(pkg, path); devBinErr != nil {
				return
			}
		}
		devBinErr = os.Link(filepath.Join(pluginDir, "swarm-backend-compose"), filepath.Join(devBin, "plugins", "swarm-backend-compose"))
	})
	return devBin, devBinErr
}

func startDev(t *testing.T) *devServer { return startDevIn(t, t.TempDir()) }

// startDevIn runs swarmctl dev with tmp as its working directory and
// extra environment variables.
func startDevIn(t *testing.T, tmp string, env ...string) *devServer {
	t.Helper()
	bin, err := buildDevBin()
	if err != nil {
		t.Fatal(err)
	}
	d := launchDev(t, filepath.Join(bin, "swarmctl"), tmp, nil, env...)
	d.waitReady(t)
	return d
}

// composePrefixConfig writes a host configuration that registers
// compose.local for everyone with project prefix prefix, so that a test's
// projects are its own, and returns dev mode's flag for it.
func composePrefixConfig(t *testing.T, prefix string) []string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "host.hcl")
	src := strings.Replace(backends.ForEveryone("compose.local"), "  grant {", fmt.Sprintf("  config {\n    project_prefix = %q\n  }\n  grant {", prefix), 1)
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	return []string{"-config", path}
}

// launchDev starts swarmctl dev in a process group of its own, which the
// test's cleanup kills whole: the server and its plugins.
func launchDev(t *testing.T, swarmctlBin, tmp string, args []string, env ...string) *devServer {
	t.Helper()
	d := &devServer{dir: filepath.Join(tmp, ".swarm"), log: &bytes.Buffer{}}
	d.cmd = exec.Command(swarmctlBin, append([]string{"dev", "-dir", d.dir, "-listen", "127.0.0.1:0", "-issuer-listen", "127.0.0.1:0"}, args...)...)
	d.cmd.Dir = tmp
	d.cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + tmp}, env...)
	d.cmd.Stdout, d.cmd.Stderr = d.log, d.log
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	d.exited = make(chan struct{})
	go func() { d.cmd.Wait(); close(d.exited) }()
	t.Cleanup(func() { syscall.Kill(-d.cmd.Process.Pid, syscall.SIGKILL); <-d.exited })
	return d
}

// waitReady reads the env file dev mode writes and waits for /readyz.
func (d *devServer) waitReady(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(filepath.Join(d.dir, "dev", "env.sh")); err == nil {
			sc := bufio.NewScanner(bytes.NewReader(b))
			for sc.Scan() {
				if v, ok := strings.CutPrefix(sc.Text(), "export ALPHASWARM_CONTROLLER_URL="); ok {
					d.url = v
				}
				if v, ok := strings.CutPrefix(sc.Text(), "export ALPHASWARM_TOKEN="); ok {
					d.token = v
				}
			}
			if resp, err := http.Get(d.url + "/readyz"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					return
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("swarmctl dev did not get ready:\n%s", d.log)
}

// swarmctl runs a command as the CLI would, against the dev server.
func swarmctl(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := cli.Main(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// runner returns a function that runs a CLI command against d and returns
// what it printed, failing the test with the server's log when it fails.
func (d *devServer) runner(t *testing.T) func(args ...string) string {
	return func(args ...string) string {
		t.Helper()
		code, out, errOut := swarmctl(t, args...)
		if code != 0 {
			t.Fatalf("swarmctl %s: exit %d\n%s%s\nserver log:\n%s", strings.Join(args, " "), code, out, errOut, d.log)
		}
		return out + errOut
	}
}

func writeTopology(t *testing.T, src string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestDevModeCLI drives the CLI against a real dev-mode server on the
// memory backend: apply with progress, status, logs, exec, scale,
// restart, jobs, a token of another tenant, destroy, and shutdown.
func TestDevModeCLI(t *testing.T) {
	d := startDev(t)
	t.Setenv("ALPHASWARM_CONTROLLER_URL", d.url)
	t.Setenv("ALPHASWARM_TOKEN", d.token)
	dir := writeTopology(t, `
backend "memory" "sim" {}

deployment "web" {
  tenant      = "demo"
  environment = "dev"
  backend     = backend.memory.sim

  service "api" {
    image    = "api:1"
    replicas = 2
  }
}
`)
	expect := func(wantCode int, wantOut string, args ...string) string {
		t.Helper()
		code, out, errOut := swarmctl(t, args...)
		if code != wantCode || !strings.Contains(out+errOut, wantOut) {
			t.Fatalf("swarmctl %s: exit %d, want %d with %q\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, wantCode, wantOut, out, errOut)
		}
		return out
	}
	expect(1, "standard input is not a terminal: pass -auto-approve", "apply", dir)
	out := expect(0, "demo/dev/web: apply succeeded", "apply", "-auto-approve", dir)
	for _, want := range []string{"+ service api (create)", "Plan: 1 to create", "demo/dev/web: api: "} {
		if !strings.Contains(out, want) {
			t.Errorf("apply output lacks %q:\n%s", want, out)
		}
	}
	expect(0, "No changes.", "apply", "-auto-approve", dir)
	expect(0, "demo/web", "status")
	expect(0, "api      2/2", "status", "demo/web")
	if out := expect(0, "api-1 | ", "logs", "-tail", "1", "demo/web", "api"); strings.Count(out, "\n") != 2 {
		t.Errorf("logs -tail 1 of two replicas:\n%s", out)
	}
	expect(0, "hello from exec", "exec", "demo/web", "api", "echo", "hello", "from", "exec")
	expect(42, "", "exec", "demo/web", "api", "exit", "42")
	expect(0, "demo/dev/web: scale succeeded", "scale", "demo/web", "api", "3")
	expect(0, "api      3/3", "status", "demo/web")
	expect(0, "demo/dev/web: restart succeeded", "restart", "-service", "api", "demo/web")
	expect(1, "no succeeded revision before the current one", "rollback", "-auto-approve", "demo/web")
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), bytes.Replace(must(os.ReadFile(filepath.Join(dir, "main.hcl"))), []byte(`"api:1"`), []byte(`"api:2"`), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	expect(0, "~ service api (update)", "apply", "-auto-approve", dir)
	expect(0, "demo/dev/web: apply succeeded", "rollback", "-auto-approve", "demo/web")
	expect(0, "Revision:    3", "status", "demo/web")
	expect(2, "REPLICAS", "scale", "demo/web", "api", "many")
	expect(1, "replicas 5000 is outside 0..1000 (field replicas)", "scale", "demo/web", "api", "5000")
	out = expect(0, "", "scale", "-detach", "-json", "demo/web", "api", "2")
	var queued struct{ Jobs []struct{ ID int64 } }
	if err := jsonUnmarshal(out, &queued); err != nil || len(queued.Jobs) != 1 {
		t.Fatalf("scale -detach -json: %v %s", err, out)
	}
	expect(0, "succeeded", "jobs", "-f", fmt.Sprint(queued.Jobs[0].ID))

	_, other, _ := swarmctl(t, "dev", "token", "-dir", d.dir, "-tenant", "globex", "-permissions", "deployments:read")
	t.Setenv("ALPHASWARM_TOKEN", strings.TrimSpace(other))
	expect(0, "No deployments.", "status")
	expect(1, "404 Not Found: deployment demo/web not found", "status", "demo/web")
	expect(1, "404 Not Found", "destroy", "-auto-approve", "demo/web")
	t.Setenv("ALPHASWARM_TOKEN", d.token)

	expect(0, "demo/dev/web: destroy succeeded", "destroy", "-auto-approve", "demo/web")
	expect(1, "404 Not Found", "status", "demo/web")
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-d.exited
	if code := d.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("swarmctl dev did not stop cleanly on SIGTERM: exit %d\n%s", code, d.log)
	}
}

// TestDevModeQuickstart applies the quickstart to the Docker Engine
// through dev mode, as make dev does, and gets an answer over HTTP from
// its published service.
func TestDevModeQuickstart(t *testing.T) {
	bin, err := buildDevBin()
	if err != nil {
		t.Fatal(err)
	}
	d := launchDev(t, filepath.Join(bin, "swarmctl"), t.TempDir(), composePrefixConfig(t, fmt.Sprintf("d%x", rand.Uint32())))
	d.waitReady(t)
	t.Setenv("ALPHASWARM_CONTROLLER_URL", d.url)
	t.Setenv("ALPHASWARM_TOKEN", d.token)
	src, err := os.ReadFile("../../../examples/topologies/quickstart-compose/main.hcl")
	if err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	dir := writeTopology(t, string(src))
	args := []string{"-var", "tag=e2e-v1", "-var", fmt.Sprintf("web_port=%d", port)}
	t.Cleanup(func() { swarmctl(t, "destroy", "-auto-approve", "-remove-data", "demo/hello") })
	if code, out, errOut := swarmctl(t, append(append([]string{"apply", "-auto-approve"}, args...), dir)...); code != 0 {
		t.Fatalf("apply: exit %d\n%s%s\n%s", code, out, errOut, d.log)
	}
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/", port))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Contains(body, []byte(`"ROLE=web"`)) {
		t.Errorf("the web service answers %d: %s", resp.StatusCode, body)
	}
	if code, out, _ := swarmctl(t, "status", "demo/hello"); code != 0 || !strings.Contains(out, "Health:      ready") {
		t.Errorf("status: exit %d\n%s", code, out)
	}
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}
