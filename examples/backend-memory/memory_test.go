package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/sdk"
	"github.com/alphaswarm/controller/sdk/backendtest"
	"github.com/alphaswarm/controller/sdk/pluginhost"
)

func harness(connect func(*testing.T) *pluginhost.Client) backendtest.Harness {
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
	backendtest.Run(t, harness(backendtest.LaunchPackage(".")))
}

// TestConformanceInProcess runs the kit over gRPC inside this process, which
// is how a plugin author would iterate quickly.
func TestConformanceInProcess(t *testing.T) {
	backendtest.Run(t, harness(backendtest.InProcess(func() sdk.Backend { return New() })))
}

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

func TestFaultsFireThenClear(t *testing.T) {
	t.Parallel()
	c := configured(t, `{"fault": [{"op": "status", "kind": "unavailable", "count": 2}, {"op": "destroy"}]}`)
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
	c := backendtest.LaunchPackage(".")(t)
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
	c := backendtest.InProcess(func() sdk.Backend { return New() })(t)
	_, err := c.Configure(context.Background(), &sdk.ConfigureRequest{Config: json.RawMessage(`{"fault": [{"op": "apply", "kind": "explode"}]}`)})
	var invalid *sdk.InvalidConfigError
	if !errors.As(err, &invalid) || invalid.Path != "fault[0].kind" {
		t.Errorf("configure with an unknown fault kind: %v, want InvalidConfigError at fault[0].kind", err)
	}
}

func TestSimulatedFailuresShowInStatus(t *testing.T) {
	t.Parallel()
	c := configured(t, `{}`)
	ctx := context.Background()
	spec := oneService
	spec.Services = []core.ServiceSpec{
		{Name: "ok", Image: "shop/ok:1", Replicas: 1},
		{Name: "crashy", Image: "shop/api:crash", Replicas: 2},
		{Name: "sick", Image: "shop/api:unhealthy", Replicas: 1},
	}
	applied, err := c.Apply(ctx, &sdk.ApplyRequest{Deployment: spec}, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Status(ctx, &sdk.StatusRequest{Deployment: spec.Ref(), State: applied.State})
	if err != nil {
		t.Fatal(err)
	}
	st := resp.Status
	if st.Health != core.HealthDegraded {
		t.Errorf("deployment health %s, want degraded (one service up, two down)", st.Health)
	}
	crashy := st.Service("crashy")
	if crashy.Health != core.HealthDown || crashy.Replicas[0].ExitCode == nil || *crashy.Replicas[0].ExitCode != 1 {
		t.Errorf("crashy: %+v, want down with exit code 1", crashy)
	}
	if sick := st.Service("sick"); sick.Health != core.HealthDown || !strings.Contains(strings.Join(sick.Reasons, " "), "health check failing") {
		t.Errorf("sick: %+v, want down because its health check fails", sick)
	}
}

func TestMissingSecretFailsApplyWithoutValue(t *testing.T) {
	t.Parallel()
	c := configured(t, `{}`)
	spec := oneService
	spec.Services = []core.ServiceSpec{{Name: "api", Image: "shop/api:1", Replicas: 1,
		SecretEnv: []core.SecretRef{{Env: "DB_PASSWORD", Ref: "shop/db"}, {Env: "TOKEN", Ref: "shop/token"}}}}
	_, err := c.Apply(context.Background(), &sdk.ApplyRequest{Deployment: spec,
		Secrets: sdk.SecretValues{"shop/db": "hunter2"}}, nil)
	if err == nil || !strings.Contains(err.Error(), `"shop/token"`) || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("apply with a missing secret: %v, want the missing reference named and no value", err)
	}
}
