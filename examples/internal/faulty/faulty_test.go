package faulty

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alphaswarm/controller/core"
	memory "github.com/alphaswarm/controller/examples/backend-memory"
	"github.com/alphaswarm/controller/sdk"
	"github.com/alphaswarm/controller/sdk/backendtest"
	"github.com/alphaswarm/controller/sdk/pluginhost"
)

// TestFaults configures faults and sees them fire, and the memory
// backend answer once they are spent.
func TestFaults(t *testing.T) {
	t.Parallel()
	spec := core.DeploymentSpec{Tenant: "acme", Environment: "dev", Name: "shop",
		Services: []core.ServiceSpec{{Name: "api", Image: "shop/api:1", Replicas: 1}}}
	for _, tc := range []struct {
		name, config string
		check        func(t *testing.T, ctx context.Context, c *pluginhost.Client)
	}{
		{"no fault: the memory backend", `{"fault": []}`,
			func(t *testing.T, ctx context.Context, c *pluginhost.Client) {
				applied, err := c.Apply(ctx, &sdk.ApplyRequest{Deployment: spec}, nil)
				if err != nil {
					t.Fatal(err)
				}
				st, err := c.Status(ctx, &sdk.StatusRequest{Deployment: spec.Ref(), State: applied.State})
				if err != nil || st.Status.Health != core.HealthReady {
					t.Errorf("status: %+v (%v), want ready", st, err)
				}
				want := sdk.CapabilitiesOf(memory.New())
				if info := c.Info(); info.Name != "faulty" || !slices.Equal(info.Capabilities, want) {
					t.Errorf("info: %+v, want faulty with the memory backend's capabilities %v", info, want)
				}
			}},
		{"faults fire, then clear", `{"fault": [{"op": "status", "kind": "unavailable", "count": 2}, {"op": "destroy"}], "node_name": "n1"}`,
			func(t *testing.T, ctx context.Context, c *pluginhost.Client) {
				req := &sdk.StatusRequest{Deployment: spec.Ref()}
				for i := range 2 {
					if _, err := c.Status(ctx, req); !sdk.IsRetriable(err) {
						t.Fatalf("status #%d: %v, want a retriable UnavailableError", i+1, err)
					}
				}
				if _, err := c.Status(ctx, req); err != nil {
					t.Fatalf("status after the fault's count: %v", err)
				}
				for range 3 { // count 0: every time, and not retriable
					_, err := c.Destroy(ctx, &sdk.DestroyRequest{Deployment: spec.Ref()})
					if err == nil || sdk.IsRetriable(err) || !strings.Contains(err.Error(), "simulated failure during destroy") {
						t.Fatalf("destroy: %v, want the simulated failure", err)
					}
				}
				// The rest of the configuration reached the memory backend.
				nodes, err := c.NodeHealth(ctx, &sdk.NodeHealthRequest{})
				if err != nil || len(nodes.Nodes) != 1 || nodes.Nodes[0].Name != "n1" {
					t.Errorf("node health: %+v (%v), want node n1", nodes, err)
				}
			}},
		{"a hang honours the deadline", `{"fault": [{"op": "apply", "kind": "hang"}], "latency": "1ms"}`,
			func(t *testing.T, ctx context.Context, c *pluginhost.Client) {
				ctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
				defer cancel()
				if _, err := c.Apply(ctx, &sdk.ApplyRequest{Deployment: spec}, nil); !errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("apply with a hang fault: %v, want DeadlineExceeded", err)
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			c := backendtest.InProcess(func() sdk.Backend { return New() })(t)
			if _, err := c.Configure(ctx, &sdk.ConfigureRequest{Config: json.RawMessage(tc.config)}); err != nil {
				t.Fatalf("configure %s: %v", tc.config, err)
			}
			tc.check(t, ctx, c)
		})
	}
}

func TestCrashFaultEndsTheProcess(t *testing.T) {
	t.Parallel()
	c := backendtest.LaunchPackage("./cmd/swarm-backend-faulty")(t)
	ctx := context.Background()
	if _, err := c.Configure(ctx, &sdk.ConfigureRequest{Config: json.RawMessage(`{"fault": [{"op": "apply", "kind": "crash"}]}`)}); err != nil {
		t.Fatal(err)
	}
	spec := core.DeploymentSpec{Tenant: "acme", Environment: "dev", Name: "crash",
		Services: []core.ServiceSpec{{Name: "api", Image: "shop/api:1", Replicas: 1}}}
	_, err := c.Apply(ctx, &sdk.ApplyRequest{Deployment: spec}, nil)
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

// TestValidateConfigSharesConfiguresChecks checks configurations offline,
// on plugin processes that are never configured: a bad fault block, or a
// bad setting of the memory backend, is refused at the attribute where
// Configure refuses it, and a value unknown is not checked.
func TestValidateConfigSharesConfiguresChecks(t *testing.T) {
	t.Parallel()
	backendtest.CheckConfigs(t, backendtest.LaunchPackage("./cmd/swarm-backend-faulty"), []backendtest.ConfigCase{
		{Name: "no fault", Config: json.RawMessage(`{}`)},
		{Name: "a bad fault kind", Config: json.RawMessage(`{"fault": [{"op": "apply"}, {"op": "plan", "kind": "explode"}]}`), ErrorPath: "fault[1].kind"},
		{Name: "a negative fault count", Config: json.RawMessage(`{"fault": [{"op": "apply", "count": -1}]}`), ErrorPath: "fault[0].count"},
		{Name: "an unknown fault kind", Config: json.RawMessage(`{"fault": [{"op": "apply", "kind": "(credential)"}]}`), Unknown: sdk.Unknown{"fault[0].kind"}},
		{Name: "a bad latency beside a fault", Config: json.RawMessage(`{"fault": [{"op": "apply"}], "latency": "soon"}`), ErrorPath: "latency"},
	})
}
