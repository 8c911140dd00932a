package faulty

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/sdk"
	"github.com/alphaswarm/controller/sdk/backendtest"
	"github.com/alphaswarm/controller/sdk/pluginhost"
)

func configured(t *testing.T, config string) *pluginhost.Client {
	t.Helper()
	c := backendtest.InProcess(func() sdk.Backend { return New() })(t)
	if _, err := c.Configure(context.Background(), &sdk.ConfigureRequest{Config: json.RawMessage(config)}); err != nil {
		t.Fatalf("configure %s: %v", config, err)
	}
	return c
}

var oneService = core.DeploymentSpec{Tenant: "acme", Environment: "dev", Name: "shop",
	Services: []core.ServiceSpec{{Name: "api", Image: "shop/api:1", Replicas: 1}}}

// TestWithoutFaultsItIsTheMemoryBackend runs the conformance kit: with no
// fault configured, the wrapper is the memory backend, every capability
// included.
func TestWithoutFaultsItIsTheMemoryBackend(t *testing.T) {
	backendtest.Run(t, backendtest.Harness{
		Connect:       backendtest.InProcess(func() sdk.Backend { return New() }),
		Config:        json.RawMessage(`{"log_interval": "50ms"}`),
		BadConfig:     json.RawMessage(`{"latency": "soon"}`),
		BadConfigPath: "latency",
		Service: func(name string) core.ServiceSpec {
			return core.ServiceSpec{Image: "example/echo:1", Env: map[string]string{"MODE": "test"}}
		},
		ExecCat:  []string{"cat"},
		ExecExit: func(code int) []string { return []string{"sh", "-c", fmt.Sprintf("exit %d", code)} },
		Timeout:  10 * time.Second,
	})
}

func TestFaultsFireThenClear(t *testing.T) {
	t.Parallel()
	c := configured(t, `{"fault": [{"op": "status", "kind": "unavailable", "count": 2}, {"op": "destroy"}], "node_name": "n1"}`)
	ctx := context.Background()
	req := &sdk.StatusRequest{Deployment: oneService.Ref()}
	for i := range 2 {
		if _, err := c.Status(ctx, req); !sdk.IsRetriable(err) {
			t.Fatalf("status #%d: %v, want a retriable UnavailableError", i+1, err)
		}
	}
	if _, err := c.Status(ctx, req); err != nil {
		t.Fatalf("status after the fault's count: %v", err)
	}
	for range 3 { // count 0: every time, and not retriable
		_, err := c.Destroy(ctx, &sdk.DestroyRequest{Deployment: oneService.Ref()})
		if err == nil || sdk.IsRetriable(err) || !strings.Contains(err.Error(), "simulated failure during destroy") {
			t.Fatalf("destroy: %v, want the simulated failure", err)
		}
	}
	// The rest of the configuration reached the memory backend.
	nodes, err := c.NodeHealth(ctx, &sdk.NodeHealthRequest{})
	if err != nil || len(nodes.Nodes) != 1 || nodes.Nodes[0].Name != "n1" {
		t.Errorf("node health: %+v (%v), want node n1", nodes, err)
	}
}

func TestHangFaultHonoursDeadline(t *testing.T) {
	t.Parallel()
	c := configured(t, `{"fault": [{"op": "apply", "kind": "hang"}], "latency": "1ms"}`)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := c.Apply(ctx, &sdk.ApplyRequest{Deployment: oneService}, nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("apply with a hang fault: %v, want DeadlineExceeded", err)
	}
}

func TestCrashFaultEndsTheProcess(t *testing.T) {
	t.Parallel()
	plugin := filepath.Join(t.TempDir(), "swarm-backend-faulty")
	if err := backendtest.BuildPlugin("./cmd/swarm-backend-faulty", plugin); err != nil {
		t.Fatal(err)
	}
	c := backendtest.Launch(plugin)(t)
	ctx := context.Background()
	if _, err := c.Configure(ctx, &sdk.ConfigureRequest{Config: json.RawMessage(`{"fault": [{"op": "apply", "kind": "crash"}]}`)}); err != nil {
		t.Fatal(err)
	}
	_, err := c.Apply(ctx, &sdk.ApplyRequest{Deployment: oneService}, nil)
	if !sdk.IsRetriable(err) {
		t.Fatalf("apply in a crashing plugin: %v, want a retriable error", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !c.Exited() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if !c.Exited() {
		t.Errorf("the plugin process is still running after a crash fault")
	}
}

func TestBadFaultConfig(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, config, path string
	}{
		{"an unknown kind", `{"fault": [{"op": "apply", "kind": "explode"}]}`, "fault[0].kind"},
		{"a negative count", `{"fault": [{"op": "apply", "kind": "error"}, {"op": "status", "kind": "error", "count": -1}]}`, "fault[1].count"},
		{"a bad memory setting", `{"fault": [], "latency": "soon"}`, "latency"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := backendtest.InProcess(func() sdk.Backend { return New() })(t)
			_, err := c.Configure(context.Background(), &sdk.ConfigureRequest{Config: json.RawMessage(tc.config)})
			var invalid *sdk.InvalidConfigError
			if !errors.As(err, &invalid) || invalid.Path != tc.path {
				t.Errorf("configure %s: %v, want InvalidConfigError at %s", tc.config, err, tc.path)
			}
		})
	}
}
