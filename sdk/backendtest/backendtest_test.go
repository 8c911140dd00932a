package backendtest_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/sdk/backendtest"
)

var minimalBinary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "backendtest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	minimalBinary = filepath.Join(dir, "swarm-backend-minimal")
	if err := backendtest.BuildPlugin("../internal/testplugin", minimalBinary); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func minimalHarness(env ...string) backendtest.Harness {
	return backendtest.Harness{
		Connect:       backendtest.Launch(minimalBinary, env...),
		Config:        json.RawMessage(`{"region": "local"}`),
		BadConfig:     json.RawMessage(`{}`),
		BadConfigPath: "region",
		Service:       func(string) core.ServiceSpec { return core.ServiceSpec{Image: "example/minimal:1"} },
		Timeout:       5 * time.Second,
	}
}

// TestMinimalBackend runs the kit against a plugin with only the required
// operations: every optional capability must answer Unsupported.
func TestMinimalBackend(t *testing.T) {
	if os.Getenv("TESTPLUGIN_BROKEN") != "" {
		backendtest.Run(t, minimalHarness("TESTPLUGIN_BROKEN="+os.Getenv("TESTPLUGIN_BROKEN")))
		return
	}
	backendtest.Run(t, minimalHarness())
}

// TestKitCatchesReplacingApply runs the kit in a child test process against a
// plugin whose apply replaces replicas every time, and expects it to fail
// with the idempotency finding.
func TestKitCatchesReplacingApply(t *testing.T) {
	if os.Getenv("TESTPLUGIN_BROKEN") != "" {
		t.Skip("this is the parent of the broken run")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestMinimalBackend$", "-test.count=1")
	cmd.Env = append(os.Environ(), "TESTPLUGIN_BROKEN=replace")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("the kit passed a backend whose apply is not idempotent:\n%s", out)
	}
	if !strings.Contains(string(out), "second apply of the same spec replaced api replicas") {
		t.Errorf("the kit failed, but not with the idempotency finding:\n%s", out)
	}
}
