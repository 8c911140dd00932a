// Package backendtest is the conformance kit for backend plugins. Run drives a
// backend across a real gRPC connection and checks every operation of
// protocol v1 that the backend declares, the way the host will use it.
//
// A backend's test is a few lines:
//
//	func TestConformance(t *testing.T) {
//		backendtest.Run(t, backendtest.Harness{
//			Connect:  backendtest.Launch("bin/plugins/swarm-backend-mine"),
//			Config:   json.RawMessage(`{"endpoint": "..."}`),
//			BadConfig: json.RawMessage(`{"endpoint": 42}`), BadConfigPath: "endpoint",
//			Service:  func(name string) core.ServiceSpec { return core.ServiceSpec{Image: "..."} },
//			ExecCat:  []string{"cat"},
//			ExecExit: func(code int) []string { return []string{"sh", "-c", fmt.Sprintf("exit %d", code)} },
//		})
//	}
package backendtest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/sdk"
	"github.com/alphaswarm/controller/sdk/pluginhost"
)

// Harness tells the suite how to reach a backend and what it can run.
type Harness struct {
	// Connect returns a client for a fresh, unconfigured backend. Launch and
	// InProcess make one; the suite closes it.
	Connect func(t *testing.T) *pluginhost.Client
	// Config is a valid configuration for the backend.
	Config json.RawMessage
	// BadConfig is a configuration the backend must reject with an
	// InvalidConfigError whose Path is BadConfigPath.
	BadConfig     json.RawMessage
	BadConfigPath string
	// Service returns a long-running service the backend can run, which logs
	// at least one line when it starts. The suite sets Name and Replicas.
	Service func(name string) core.ServiceSpec
	// ExecCat is a command that copies its stdin to stdout and exits 0.
	ExecCat []string
	// ExecExit returns a command that exits with code.
	ExecExit func(code int) []string
	// Unavailable lists capabilities the backend declares but the
	// environment under test cannot serve, such as metrics on a Kubernetes
	// cluster without metrics-server: their operations must answer
	// Unsupported at run time, as an undeclared capability's do.
	Unavailable []sdk.Capability
	// Tenant owns the suite's deployments; it defaults to "conformance".
	Tenant string
	// Timeout bounds each wait for a deployment to settle; default 60s.
	Timeout time.Duration
}

// Launch returns a Connect function that starts the plugin binary at path as
// a separate process, over mutual TLS, as the host does.
func Launch(path string, env ...string) func(t *testing.T) *pluginhost.Client {
	return func(t *testing.T) *pluginhost.Client {
		t.Helper()
		c, err := pluginhost.Launch(context.Background(), pluginhost.LaunchConfig{Path: path, Env: env})
		if err != nil {
			t.Fatalf("launch backend: %v", err)
		}
		t.Cleanup(c.Close)
		return c
	}
}

// InProcess returns a Connect function that serves a new backend from
// newBackend in this process, across a real gRPC connection.
func InProcess(newBackend func() sdk.Backend) func(t *testing.T) *pluginhost.Client {
	return func(t *testing.T) *pluginhost.Client {
		t.Helper()
		c, err := pluginhost.ServeInProcess(context.Background(), newBackend())
		if err != nil {
			t.Fatalf("serve backend: %v", err)
		}
		t.Cleanup(c.Close)
		return c
	}
}
