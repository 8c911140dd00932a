package compose_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/docker/docker/client"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/plugins/compose/internal/testenv"
	"github.com/alphaswarm/controller/sdk/backendtest"
)

// The echo image tags the tests use; v2 is the same image under another tag,
// which is enough to make a service change.
const (
	echoV1 = "alphaswarm/echo:test-v1"
	echoV2 = "alphaswarm/echo:test-v2"
)

// pluginPackage is the plugin's main package, built by backendtest.Binary.
const pluginPackage = "./cmd/swarm-backend-compose"

var docker *client.Client

func TestMain(m *testing.M) {
	docker = testenv.Engine()
	if err := testenv.BuildEcho(context.Background(), docker, echoV1, echoV2); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// testConfig keeps tests quick: short grace periods, their own prefix.
const testConfig = `{"project_prefix": "ct", "ready_timeout": "30s", "stop_timeout": "1s"}`

func echoService(image string) core.ServiceSpec {
	return core.ServiceSpec{
		Image: image,
		Env:   map[string]string{"LOG_INTERVAL": "100ms"},
		Ports: []core.Port{{Name: "http", Container: 8080, Protocol: core.ProtocolTCP}},
		Health: &core.HealthCheck{Kind: core.HealthCheckHTTP, Path: "/healthz", Port: "http",
			Interval: core.Duration(200 * time.Millisecond), Timeout: core.Duration(time.Second)},
	}
}

// TestConformance runs the SDK's conformance kit against the plugin binary,
// launched as the host launches it, on the real engine.
func TestConformance(t *testing.T) {
	backendtest.Run(t, backendtest.Harness{
		Connect:       backendtest.LaunchPackage(pluginPackage),
		Config:        json.RawMessage(testConfig),
		BadConfig:     json.RawMessage(`{"pull_policy": "sometimes"}`),
		BadConfigPath: "pull_policy",
		Service:       func(string) core.ServiceSpec { return echoService(echoV1) },
		ExecCat:       []string{"/echo", "cat"},
		ExecExit:      func(code int) []string { return []string{"/echo", "exit", strconv.Itoa(code)} },
		Timeout:       60 * time.Second,
	})
}
