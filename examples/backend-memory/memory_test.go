package memory

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

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
	backendtest.Run(t, harness(backendtest.LaunchPackage("./cmd/swarm-backend-memory")))
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

// TestAFreshInstanceCarriesOn applies with one instance of the plugin and
// hands the state blob to a fresh one, which knows the deployment from the
// blob alone: the plugin keeps nothing between calls.
func TestAFreshInstanceCarriesOn(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		connect func(*testing.T) *pluginhost.Client
	}{
		{"in process", backendtest.InProcess(func() sdk.Backend { return New() })},
		{"across processes", backendtest.LaunchPackage("./cmd/swarm-backend-memory")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			spec := oneService
			spec.Services = []core.ServiceSpec{{Name: "api", Image: "shop/api:1", Replicas: 2}, {Name: "db", Image: "shop/db:1", Replicas: 1}}
			first := tc.connect(t)
			if _, err := first.Configure(ctx, &sdk.ConfigureRequest{Config: json.RawMessage(`{}`)}); err != nil {
				t.Fatal(err)
			}
			applied, err := first.Apply(ctx, &sdk.ApplyRequest{Deployment: spec}, nil)
			if err != nil {
				t.Fatal(err)
			}
			want, err := first.Status(ctx, &sdk.StatusRequest{Deployment: spec.Ref(), State: applied.State})
			if err != nil {
				t.Fatal(err)
			}
			fresh := tc.connect(t)
			if _, err := fresh.Configure(ctx, &sdk.ConfigureRequest{Config: json.RawMessage(`{}`)}); err != nil {
				t.Fatal(err)
			}
			got, err := fresh.Status(ctx, &sdk.StatusRequest{Deployment: spec.Ref(), State: applied.State})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want.Status, got.Status, cmpopts.IgnoreFields(core.DeploymentStatus{}, "ObservedAt")); diff != "" {
				t.Errorf("status from a fresh instance (-first +fresh):\n%s", diff)
			}
			if got.Status.Health != core.HealthReady || len(got.Status.Services) != 2 || len(got.Status.Service("api").Replicas) != 2 {
				t.Errorf("status from a fresh instance: %+v, want both services ready", got.Status)
			}
		})
	}
}

// TestNoFaultInjection: the reference plugin injects no faults (the test
// plugin examples/internal/faulty does); a fault block is an unknown
// attribute.
func TestNoFaultInjection(t *testing.T) {
	t.Parallel()
	c := backendtest.InProcess(func() sdk.Backend { return New() })(t)
	_, err := c.Configure(context.Background(), &sdk.ConfigureRequest{Config: json.RawMessage(`{"fault": [{"op": "apply", "kind": "crash"}]}`)})
	var invalid *sdk.InvalidConfigError
	if !errors.As(err, &invalid) {
		t.Errorf("configure with a fault: %v, want an InvalidConfigError", err)
	}
}

// TestStateFromBeforeTheVersion reads a state blob as the plugin wrote it
// before the blob had a version.
func TestStateFromBeforeTheVersion(t *testing.T) {
	t.Parallel()
	c := configured(t, `{}`)
	legacy := `{"deployment":{"tenant":"acme","environment":"dev","name":"shop"},"services":[{"spec":{"name":"api","image":"shop/api:1","replicas":1},` +
		`"replicas":[{"id":"api-1","started_at":"2026-12-01T10:00:00Z","restarts":0}],"next_number":1}]}`
	resp, err := c.Status(context.Background(), &sdk.StatusRequest{Deployment: oneService.Ref(), State: []byte(legacy)})
	if err != nil {
		t.Fatal(err)
	}
	if api := resp.Status.Service("api"); resp.Status.Health != core.HealthReady || api == nil || len(api.Replicas) != 1 || api.Replicas[0].ID != "api-1" {
		t.Errorf("status from a legacy blob: %+v", resp.Status)
	}
	if _, err := c.Status(context.Background(), &sdk.StatusRequest{Deployment: oneService.Ref(), State: []byte(`{"version": 9}`)}); !errors.Is(err, sdk.ErrStateVersion) &&
		!strings.Contains(fmt.Sprint(err), "version 9") {
		t.Errorf("status from a blob of version 9: %v, want the version named", err)
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
