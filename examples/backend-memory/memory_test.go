package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/sdk"
	"github.com/alphaswarm/controller/sdk/backendtest"
)

// pluginBinary is this package built as a plugin, by TestMain.
var pluginBinary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "memory-plugin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	pluginBinary = filepath.Join(dir, "swarm-backend-memory")
	build := exec.Command("go", "build", "-o", pluginBinary, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build plugin: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func harness(connect func(*testing.T) *sdk.Client) backendtest.Harness {
	return backendtest.Harness{
		Connect:       connect,
		Config:        json.RawMessage(`{"log_interval": "50ms"}`),
		BadConfig:     json.RawMessage(`{"latency": "soon"}`),
		BadConfigPath: "latency",
		Service: func(name string) core.ServiceSpec {
			return core.ServiceSpec{Image: "example/echo:1", Env: map[string]string{"MODE": "test"}}
		},
		ExecCat:  []string{"cat"},
		ExecExit: func(code int) []string { return []string{"sh", "-c", fmt.Sprintf("exit %d", code)} },
		Timeout:  10 * time.Second,
	}
}

// TestConformanceAcrossProcess runs the conformance kit against the plugin
// binary, launched as the host launches it.
func TestConformanceAcrossProcess(t *testing.T) {
	backendtest.Run(t, harness(backendtest.Launch(pluginBinary)))
}

// TestConformanceInProcess runs the kit over gRPC inside this process, which
// is how a plugin author would iterate quickly.
func TestConformanceInProcess(t *testing.T) {
	backendtest.Run(t, harness(backendtest.InProcess(func() sdk.Backend { return New() })))
}
