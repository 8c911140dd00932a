package backendtest_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/sdk/backendtest"
)

const (
	minimalPackage = "../internal/testplugin"
	worldPackage   = "./internal/world"
	// brokenEnv selects, in a child test process, the breakage of the
	// plugin under test.
	brokenEnv = "BACKENDTEST_BROKEN"
)

func minimalHarness(env ...string) backendtest.Harness {
	return backendtest.Harness{
		Connect:       backendtest.LaunchPackage(minimalPackage, env...),
		Config:        json.RawMessage(`{"region": "local"}`),
		BadConfig:     json.RawMessage(`{}`),
		BadConfigPath: "region",
		Service:       func(string) core.ServiceSpec { return core.ServiceSpec{Image: "example/minimal:1"} },
		Timeout:       5 * time.Second,
		PollInterval:  20 * time.Millisecond,
	}
}

// TestMinimalBackend runs the kit against a plugin with only the required
// operations: every optional capability must answer Unsupported.
func TestMinimalBackend(t *testing.T) {
	if mode := os.Getenv(brokenEnv); mode != "" {
		backendtest.Run(t, minimalHarness("TESTPLUGIN_BROKEN="+mode))
		return
	}
	backendtest.Run(t, minimalHarness())
}

// TestKitCatchesReplacingApply runs the kit in a child test process against a
// plugin whose apply replaces replicas every time, and expects it to fail
// with the idempotency finding.
func TestKitCatchesReplacingApply(t *testing.T) {
	if os.Getenv(brokenEnv) != "" {
		t.Skip("this is the parent of the broken run")
	}
	backendtest.Binary(t, minimalPackage) // once, for the child too
	expectFailure(t, "^TestMinimalBackend$", "replace", "second apply of the same spec replaced api replicas")
}

// worldHarness is the kit's own backend, whose replicas are files in dir.
func worldHarness(dir, broken string) backendtest.Harness {
	config := func(extra string) json.RawMessage {
		return json.RawMessage(fmt.Sprintf(`{"dir": %q, "broken": %q%s}`, dir, broken, extra))
	}
	return backendtest.Harness{
		Connect:       backendtest.LaunchPackage(worldPackage),
		Config:        config(""),
		BadConfig:     config(`, "step": "soon"`),
		BadConfigPath: "step",
		Service:       func(string) core.ServiceSpec { return core.ServiceSpec{Image: "world/echo:1"} },
		ExecCat:       []string{"cat"},
		ExecExit:      func(code int) []string { return []string{"exit", strconv.Itoa(code)} },
		Timeout:       5 * time.Second,
		PollInterval:  20 * time.Millisecond,
	}
}

// TestWorld runs the whole kit against the world backend played straight,
// launched as the host launches it; in a child process of
// TestKitCatchesBrokenBackends, against one of its breakages.
func TestWorld(t *testing.T) {
	dir := t.TempDir()
	backendtest.Run(t, worldHarness(dir, os.Getenv(brokenEnv)))
	if os.Getenv(brokenEnv) != "" || t.Failed() {
		return
	}
	left, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range left {
		files, _ := os.ReadDir(dir + "/" + d.Name())
		for _, f := range files {
			t.Errorf("the kit left replica %s/%s behind", d.Name(), f.Name())
		}
	}
}

// TestKitCatchesBrokenBackends runs each check of the kit in a child test
// process against the world backend with the breakage that check exists
// for, and expects the check to fail with its finding.
func TestKitCatchesBrokenBackends(t *testing.T) {
	if os.Getenv(brokenEnv) != "" {
		t.Skip("this is the parent of the broken runs")
	}
	backendtest.Binary(t, worldPackage) // once, for the children too
	cases := []struct{ check, broken, finding string }{
		{"StateIsEnough", "memory-state", "status from a fresh plugin process given only the state: ready: still not so"},
		{"CrashMidApply", "duplicate-on-retry", "a new one applied again: exactly the desired replicas: still not so"},
		{"SecretsStaySecret", "secret-in-state", "the secret value (raw) is in the state after apply"},
		{"SecretsStaySecret", "secret-on-stderr", "the secret value (raw) is in the plugin's stderr"},
		{"ApplyHonoursCancellation", "ignore-cancel", "the plugin's apply did not end within 5s of its cancellation"},
		{"ApplyHonoursCancellation", "swallow-cancel", "after its cancellation without a cancellation error (failed: false)"},
		{"ConcurrentDeployments", "global-names", "the other deployment is still ready after one was destroyed: still not so"},
		{"ValidatesOffline", "validate-needs-configure", "validate Harness.Config on a process never configured"},
	}
	for _, tc := range cases {
		t.Run(tc.check+"/"+tc.broken, func(t *testing.T) {
			t.Parallel()
			expectFailure(t, "^TestWorld$/^"+tc.check+"$", tc.broken, tc.finding)
		})
	}
}

// expectFailure runs the tests matching run in a child test process with
// brokenEnv set to broken, and expects them to fail with finding.
func expectFailure(t *testing.T, run, broken, finding string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run="+run, "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), brokenEnv+"="+broken)
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("the kit passed a backend broken with %s:\n%s", broken, out)
	}
	if !strings.Contains(string(out), finding) {
		t.Errorf("the kit failed a backend broken with %s, but not with %q:\n%s", broken, finding, out)
	}
	if !strings.Contains(string(out), "--- FAIL") {
		t.Errorf("the child test process did not fail a test:\n%s", out)
	}
}
