package e2e

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/alphaswarm/controller/host/internal/testbin"
)

var (
	failpointBinOnce sync.Once
	failpointBin     string
	failpointBinErr  error
)

// buildFailpointBin builds swarmctl with the failpoints tag beside the
// dev tests' plugins, once.
func buildFailpointBin() (string, error) {
	failpointBinOnce.Do(func() {
		var devBin string
		if devBin, failpointBinErr = buildDevBin(); failpointBinErr != nil {
			return
		}
		dir := filepath.Join(filepath.Dir(devBin), "failpoints")
		failpointBin = filepath.Join(dir, "swarmctl")
		if failpointBinErr = testbin.BuildWithTags("github.com/alphaswarm/controller/host/cmd/swarmctl", failpointBin, "failpoints"); failpointBinErr != nil {
			return
		}
		failpointBinErr = os.Symlink(filepath.Join(devBin, "plugins"), filepath.Join(dir, "plugins"))
	})
	return failpointBin, failpointBinErr
}

// containerIDs lists the ids of a compose project's containers, sorted.
func containerIDs(t *testing.T, project string) []string {
	t.Helper()
	out, err := dockerCLI("ps", "-aq", "--no-trunc", "--filter", "label=com.docker.compose.project="+project)
	if err != nil {
		t.Fatal(err)
	}
	ids := strings.Fields(out)
	slices.Sort(ids)
	return ids
}

// TestHostKilledBeforeTheRecordAdoptsWhatRuns kills dev mode with SIGKILL
// after the compose plugin converged the quickstart and before the host
// recorded it. Started again on the same state, the host runs the job
// again at once: it records the deployment, as revision 1, without
// replacing a single container.
func TestHostKilledBeforeTheRecordAdoptsWhatRuns(t *testing.T) {
	bin, err := buildFailpointBin()
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	prefix := fmt.Sprintf("k%x", rand.Uint32())
	config := composePrefixConfig(t, prefix)
	d := launchDev(t, bin, tmp, config, "ALPHASWARM_FAILPOINT=before-record-apply")
	d.waitReady(t)
	t.Setenv("ALPHASWARM_CONTROLLER_URL", d.url)
	t.Setenv("ALPHASWARM_TOKEN", d.token)
	project := prefix + "_demo_dev_hello"
	src, err := os.ReadFile("../../../examples/topologies/quickstart-compose/main.hcl")
	if err != nil {
		t.Fatal(err)
	}
	dir := writeTopology(t, string(src))
	port := freePort(t)
	args := []string{"apply", "-auto-approve", "-detach", "-var", "tag=e2e-v1", "-var", fmt.Sprintf("web_port=%d", port), dir}
	t.Cleanup(func() { removeContainers(t, project) })
	if code, out, errOut := swarmctl(t, args...); code != 0 {
		t.Fatalf("apply: exit %d\n%s%s", code, out, errOut)
	}
	select {
	case <-d.exited:
	case <-time.After(2 * time.Minute):
		t.Fatalf("the host did not reach the failpoint:\n%s", d.log)
	}
	if ws, ok := d.cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("the host ended with %v, not SIGKILL:\n%s", d.cmd.ProcessState, d.log)
	}
	before := containerIDs(t, project)
	if len(before) != 4 {
		t.Fatalf("after the crash the engine runs %d containers of %s, want 4", len(before), project)
	}
	syscall.Kill(-d.cmd.Process.Pid, syscall.SIGKILL) // its orphaned plugins, as a machine crash would

	devBin, err := buildDevBin()
	if err != nil {
		t.Fatal(err)
	}
	d = launchDev(t, filepath.Join(devBin, "swarmctl"), tmp, config)
	d.waitReady(t)
	t.Setenv("ALPHASWARM_CONTROLLER_URL", d.url)
	t.Setenv("ALPHASWARM_TOKEN", d.token)
	var status string
	waitUntil(t, "the job runs again and records the deployment", 2*time.Minute, func() bool {
		code, out, _ := swarmctl(t, "status", "demo/hello")
		status = out
		return code == 0 && strings.Contains(out, "Health:      ready")
	})
	if !strings.Contains(status, "Revision:    1\n") || strings.Count(status, "succeeded") != 1 {
		t.Errorf("status after recovery, want revision 1 recorded once:\n%s", status)
	}
	if after := containerIDs(t, project); !slices.Equal(before, after) {
		t.Errorf("recovery replaced containers:\nbefore %v\nafter  %v", before, after)
	}
	if code, out, _ := swarmctl(t, "plan", "-var", "tag=e2e-v1", "-var", fmt.Sprintf("web_port=%d", port), dir); code != 0 || !strings.Contains(out, "No changes. The backends run what the topology says.") {
		t.Errorf("plan after recovery: exit %d\n%s", code, out)
	}
	if code, out, errOut := swarmctl(t, "destroy", "-auto-approve", "-remove-data", "demo/hello"); code != 0 {
		t.Errorf("destroy: exit %d\n%s%s", code, out, errOut)
	}
}

// removeContainers removes what a test left of a compose project: its
// containers and then its networks, so that runs on one engine do not use
// up its address pools.
func removeContainers(t *testing.T, project string) {
	if ids := containerIDs(t, project); len(ids) > 0 {
		dockerCLI(append([]string{"rm", "-f", "-v"}, ids...)...)
	}
	if out, err := dockerCLI("network", "ls", "-q", "--filter", "label=com.docker.compose.project="+project); err == nil && strings.TrimSpace(out) != "" {
		dockerCLI(append([]string{"network", "rm"}, strings.Fields(out)...)...)
	}
}

func waitUntil(t *testing.T, what string, timeout time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not so within %s", what, timeout)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// httpAnswers reports whether url answers 200 with want in its body.
func httpAnswers(url, want string) bool {
	resp, err := http.Get(url)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode == http.StatusOK && strings.Contains(string(body), want)
}
