// Package backendtest is the conformance kit for backend plugins. Run drives a
// backend across a real gRPC connection and checks every promise of protocol
// v1 that the backend makes, the way the host will use it: idempotent apply,
// updates that touch only what changed, cancellation, a fresh plugin process
// carrying on from the state blob alone, recovery from a plugin killed in the
// middle of an apply, secret values kept out of everything but the workload,
// concurrent deployments kept apart, and every capability it declares.
//
// A backend's test is a few lines:
//
//	func TestConformance(t *testing.T) {
//		backendtest.Run(t, backendtest.Harness{
//			Connect:   backendtest.LaunchPackage("./cmd/swarm-backend-mine"),
//			Config:    json.RawMessage(`{"endpoint": "..."}`),
//			BadConfig: json.RawMessage(`{"endpoint": 42}`), BadConfigPath: "endpoint",
//			Service:   func(name string) core.ServiceSpec { return core.ServiceSpec{Image: "..."} },
//			ExecCat:   []string{"cat"},
//			ExecExit:  func(code int) []string { return []string{"sh", "-c", fmt.Sprintf("exit %d", code)} },
//		})
//	}
//
// Run the kit against the launched binary (Launch, LaunchPackage): some
// checks need a process boundary (CrashMidApply kills the plugin), and only
// then does the kit see what the plugin writes to stderr as the host does.
package backendtest

import (
	"context"
	"encoding/json"
	"io"
	"testing"
	"time"

	hclog "github.com/hashicorp/go-hclog"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/sdk"
	"github.com/alphaswarm/controller/sdk/pluginhost"
)

// Harness tells the suite how to reach a backend and what it can run.
type Harness struct {
	// Connect returns a client for a fresh, unconfigured backend: with
	// Launch and LaunchPackage a new plugin process each time, with InProcess
	// a new backend value. The suite closes it. The checks that need to see
	// the plugin's stderr or kill its process work only with these three.
	Connect func(t *testing.T) *pluginhost.Client
	// Config is a valid configuration for the backend.
	Config json.RawMessage
	// BadConfig is a configuration the backend must reject with an
	// InvalidConfigError whose Path is BadConfigPath.
	BadConfig     json.RawMessage
	BadConfigPath string
	// Service returns a long-running service the backend can run, which logs
	// at least one line when it starts. The suite sets Name and Replicas, and
	// may add environment variables and secret references.
	Service func(name string) core.ServiceSpec
	// ExecCat is a command run inside a replica that copies its standard
	// input to its standard output and exits 0 when its input ends. The kit
	// runs it without a terminal, writes the two lines
	// "conformance stdin line\nsecond line\n" to its stdin, then closes
	// stdin, and expects exactly those bytes on stdout. A command that
	// stops after two lines (head -n 2) serves where the platform never
	// closes a command's stdin.
	ExecCat []string
	// ExecExit returns a command run inside a replica, without a terminal
	// and without stdin, that exits at once with code (0, 3 and 42).
	ExecExit func(code int) []string
	// ExecExitUnknown says that the backend's platform runs commands but
	// never reports how they ended (Azure Container Apps' exec endpoint):
	// the kit then accepts sdk.ExitCodeUnknown wherever it expects an exit
	// code, and still checks the output. Without it, ExitCodeUnknown fails
	// as any wrong code does.
	ExecExitUnknown bool
	// Unavailable lists capabilities the backend declares but the
	// environment under test cannot serve, such as metrics on a Kubernetes
	// cluster without metrics-server: their operations must answer
	// Unsupported at run time, as an undeclared capability's do.
	Unavailable []sdk.Capability
	// Tenant owns the suite's deployments; it defaults to "conformance".
	Tenant string

	// Timeout bounds each call to the backend and each wait for a
	// deployment to settle (ready after apply, gone after destroy); default
	// 60s. Raise it for slow, eventually consistent backends: the checks
	// stay the same, they only wait longer.
	Timeout time.Duration
	// PollInterval is the pause between two Status calls while waiting for
	// a deployment to settle; default 100ms. Raise it against rate-limited
	// cloud APIs.
	PollInterval time.Duration
	// CancelGrace is how long the plugin's Apply may run on once its
	// context is cancelled; default 5s, the promise of sdk's doc.
	CancelGrace time.Duration
	// Parallel is how many checks run at once; default 8. Every check uses
	// its own deployments, so they do not interfere.
	Parallel int
}

func (h *Harness) defaults() {
	if h.Tenant == "" {
		h.Tenant = "conformance"
	}
	if h.Timeout <= 0 {
		h.Timeout = 60 * time.Second
	}
	if h.PollInterval <= 0 {
		h.PollInterval = 100 * time.Millisecond
	}
	if h.CancelGrace <= 0 {
		h.CancelGrace = 5 * time.Second
	}
	if h.Parallel <= 0 {
		h.Parallel = 8
	}
}

// Launch returns a Connect function that starts the plugin binary at path as
// a separate process, over mutual TLS, as the host does. env is the plugin's
// whole environment. The kit keeps what the plugin writes to stderr (at
// debug level) to check it.
func Launch(path string, env ...string) func(t *testing.T) *pluginhost.Client {
	return func(t *testing.T) *pluginhost.Client {
		t.Helper()
		out := &output{}
		c, err := pluginhost.Launch(context.Background(), pluginhost.LaunchConfig{
			Path: path, Env: env, Stderr: out,
			Logger: hclog.New(&hclog.LoggerOptions{Level: hclog.Debug, Output: io.Discard}),
		})
		if err != nil {
			t.Fatalf("launch backend: %v", err)
		}
		register(c, out)
		t.Cleanup(func() {
			c.Close()
			unregister(c)
		})
		return c
	}
}

// LaunchPackage returns a Connect function that builds the plugin's main
// package pkg once per test process (see Binary) and launches it as Launch
// does.
func LaunchPackage(pkg string, env ...string) func(t *testing.T) *pluginhost.Client {
	return func(t *testing.T) *pluginhost.Client {
		t.Helper()
		return Launch(Binary(t, pkg), env...)(t)
	}
}

// InProcess returns a Connect function that serves a new backend from
// newBackend in this process, across a real gRPC connection. The kit then
// reads what the backend logs through hclog.Default(), which it points at
// itself (JSON, debug level) for the rest of the test process.
func InProcess(newBackend func() sdk.Backend) func(t *testing.T) *pluginhost.Client {
	return func(t *testing.T) *pluginhost.Client {
		t.Helper()
		captureDefaultLogger()
		c, err := pluginhost.ServeInProcess(context.Background(), newBackend())
		if err != nil {
			t.Fatalf("serve backend: %v", err)
		}
		register(c, inProcessLog)
		t.Cleanup(func() {
			c.Close()
			unregister(c)
		})
		return c
	}
}
