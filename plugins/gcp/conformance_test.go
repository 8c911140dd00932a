package gcp_test

import (
	"encoding/json"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/plugins/gcp/internal/fakegcp"
	"github.com/alphaswarm/controller/sdk/backendtest"
)

// pluginPackage is the plugin's main package, built by backendtest.Binary.
const pluginPackage = "./cmd/swarm-backend-gcp"

// fake is the fake Google Cloud every test of the package shares: the
// plugin runs in processes of its own and reaches it on loopback through
// the endpoint attribute.
var fake *fakegcp.Server

func TestMain(m *testing.M) {
	var err error
	if fake, err = fakegcp.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "start the fake Google Cloud:", err)
		os.Exit(1)
	}
	code := m.Run()
	fake.Stop()
	os.Exit(code)
}

const (
	project = "alphaswarm-test"
	region  = "europe-west1"
)

// config is a configuration that reaches the fake.
func config(extra map[string]any) json.RawMessage {
	c := map[string]any{"project": project, "region": region, "endpoint": fake.Addr(), "operation_timeout": "30s"}
	for k, v := range extra {
		c[k] = v
	}
	b, _ := json.Marshal(c)
	return b
}

func testService(string) core.ServiceSpec {
	return core.ServiceSpec{
		Image: "registry.example/echo:1",
		Ports: []core.Port{{Name: "http", Container: 8080, Protocol: core.ProtocolTCP}},
	}
}

// TestConformance runs the SDK's conformance kit against the plugin binary
// and the fake Google Cloud, across a real process boundary.
func TestConformance(t *testing.T) {
	backendtest.Run(t, backendtest.Harness{
		Connect:       backendtest.LaunchPackage(pluginPackage),
		Config:        config(nil),
		BadConfig:     config(map[string]any{"ingress": "sometimes"}),
		BadConfigPath: "ingress",
		Service:       testService,
		ExecCat:       []string{"cat"},
		ExecExit:      func(code int) []string { return []string{"sh", "-c", fmt.Sprintf("exit %d", code)} },
		Timeout:       30 * time.Second,
	})
}
