package azure_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/plugins/azure/internal/fakearm"
	"github.com/alphaswarm/controller/sdk"
)

// TestServerErrors: a 503 once is retried by the SDK's pipeline; one that
// persists past its retries is a retriable error for the host, with
// Azure's code and message.
func TestServerErrors(t *testing.T) {
	t.Parallel()
	b := configured(t, nil)
	cases := []struct {
		name      string
		times     int
		retriable bool
	}{
		{"once", 1, false},
		{"many", 10, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			spec := core.DeploymentSpec{Tenant: "acme", Environment: "prod", Name: unique("e5xx-" + tc.name),
				Services: []core.ServiceSpec{{Name: "api", Image: "registry.example/api:1", Replicas: 1}}}
			fake.Inject(fakearm.Fault{Method: "PUT", PathContains: "-" + spec.Name + "-api-", Status: 503, Times: tc.times,
				Code: "ServiceUnavailable", Message: "The service is temporarily unavailable."})
			resp, err := b.Apply(ctxFor(t), &sdk.ApplyRequest{Deployment: spec}, func(core.Event) {})
			if resp != nil {
				t.Cleanup(func() { destroy(t, b, spec.Ref(), resp.State) })
			}
			switch {
			case !tc.retriable && err != nil:
				t.Fatalf("apply through one 503: %v", err)
			case tc.retriable && (!sdk.IsRetriable(err) || !strings.Contains(err.Error(), "ServiceUnavailable")):
				t.Fatalf("apply through a lasting 503: %v, want a retriable error naming ServiceUnavailable", err)
			}
		})
	}
}

// TestExpiredClientSecret: Entra ID refuses an expired secret, and
// Configure says so at client_secret, with Entra ID's code.
func TestExpiredClientSecret(t *testing.T) {
	t.Parallel()
	own, err := fakearm.Start(fakearm.Options{TenantID: tenantID, ClientID: clientID, ClientSecret: clientSecret})
	if err != nil {
		t.Fatal(err)
	}
	defer own.Close()
	own.AddEnvironment(subscription, group, envName, location)
	own.ExpireClientSecret()
	c := map[string]any{}
	_ = json.Unmarshal(config(t, nil), &c)
	c["endpoint"], c["authority_host"] = own.URL(), own.URL()+"/"
	raw, _ := json.Marshal(c)
	// The two fakes' certificates differ: this test's backend trusts its
	// own through a process of its own, the way a launched plugin does.
	client := launchWith(t, own.CAFile())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err = client.Configure(ctx, &sdk.ConfigureRequest{Instance: "expired", Config: raw})
	var invalid *sdk.InvalidConfigError
	if !errors.As(err, &invalid) || invalid.Path != "client_secret" || !strings.Contains(err.Error(), "AADSTS7000222") {
		t.Fatalf("configure with an expired secret: %v, want an InvalidConfigError at client_secret naming AADSTS7000222", err)
	}
	if strings.Contains(err.Error(), clientSecret) {
		t.Errorf("the error shows the client secret: %v", err)
	}
}

// TestPlanSeesDeletedApp: an app deleted behind the plugin's back is
// planned as created again, and apply brings it back.
func TestPlanSeesDeletedApp(t *testing.T) {
	t.Parallel()
	b := configured(t, nil)
	spec := core.DeploymentSpec{Tenant: "acme", Environment: "prod", Name: "drift",
		Services: []core.ServiceSpec{{Name: "api", Image: "registry.example/api:1", Replicas: 1}, {Name: "worker", Image: "registry.example/w:1", Replicas: 1}}}
	resp, err := b.Apply(ctxFor(t), &sdk.ApplyRequest{Deployment: spec}, func(core.Event) {})
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	t.Cleanup(func() { destroy(t, b, spec.Ref(), resp.State) })
	var api string
	for name, a := range fake.Apps() {
		if tags := a.Model.Tags; *tags["alphaswarm-deployment"] == "drift" && *tags["alphaswarm-service"] == "api" {
			api = name
		}
	}
	fake.DeleteApp(api)
	plan, err := b.Plan(ctxFor(t), &sdk.PlanRequest{Deployment: spec, PriorState: resp.State})
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	got := map[string]sdk.Action{}
	for _, c := range plan.Services {
		got[c.Service] = c.Action
	}
	if got["api"] != sdk.ActionCreate || got["worker"] != sdk.ActionNoop {
		t.Errorf("plan after api's app was deleted: %v, want api create and worker no-op", got)
	}
	if resp, err = b.Apply(ctxFor(t), &sdk.ApplyRequest{Deployment: spec, PriorState: resp.State}, func(core.Event) {}); err != nil {
		t.Fatalf("apply again: %v", err)
	}
	if _, ok := fake.Apps()[api]; !ok {
		t.Errorf("apply did not create app %s again", api)
	}
}

// TestDependsOnOrder: an app is sent only once the apps it depends on are
// provisioned.
func TestDependsOnOrder(t *testing.T) {
	t.Parallel()
	b := configured(t, nil)
	name := unique("order")
	spec := core.DeploymentSpec{Tenant: "acme", Environment: "prod", Name: name, Services: []core.ServiceSpec{
		{Name: "web", Image: "registry.example/web:1", Replicas: 1, DependsOn: []string{"db"}},
		{Name: "db", Image: "registry.example/db:1", Replicas: 1},
	}}
	resp, err := b.Apply(ctxFor(t), &sdk.ApplyRequest{Deployment: spec}, func(core.Event) {})
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	t.Cleanup(func() { destroy(t, b, spec.Ref(), resp.State) })
	var order []string
	mark := "-" + name + "-"
	for _, c := range fake.Calls(mark) {
		if strings.HasPrefix(c, "PUT ") {
			order = append(order, c[strings.Index(c, mark)+len(mark):strings.LastIndex(c, "-")])
		}
	}
	if len(order) != 2 || order[0] != "db" || order[1] != "web" {
		t.Errorf("apps sent in the order %v, want db then web", order)
	}
}

// TestApplyFaults: a used-up quota and a managed environment deleted after
// Configure each fail apply at once with one error that names the app and
// the cause, not retriable, without waiting out the apply timeout.
func TestApplyFaults(t *testing.T) {
	t.Parallel()
	const quotaMessage = "Maximum Allowed Cores exceeded for the Managed Environment. Please check https://learn.microsoft.com/en-us/azure/container-apps/quotas for resource limits."
	cases := []struct {
		name string
		// setup returns the configuration changes, and a function to run
		// once the backend is configured.
		setup func(spec core.DeploymentSpec) (map[string]any, func())
		want  []string
	}{
		{"quota exceeded", func(spec core.DeploymentSpec) (map[string]any, func()) {
			// 409 as ARM gives core quota refusals: not an operation in
			// progress to wait for.
			fake.Inject(fakearm.Fault{Method: "PUT", PathContains: "-" + spec.Name + "-api-", Status: 409, Times: 1,
				Code: "QuotaExceeded", Message: quotaMessage})
			return nil, func() {}
		}, []string{"quota exceeded", "QuotaExceeded", "Maximum Allowed Cores exceeded", "-api-"}},
		{"environment deleted", func(spec core.DeploymentSpec) (map[string]any, func()) {
			env := "cae-" + spec.Name
			fake.AddEnvironment(subscription, group, env, location)
			return map[string]any{"environment": env}, func() { fake.DeleteEnvironment(subscription, group, env) }
		}, []string{"ManagedEnvironment", "cae-", "was not found", "-api-"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			spec := core.DeploymentSpec{Tenant: "acme", Environment: "prod", Name: unique("fault"),
				Services: []core.ServiceSpec{{Name: "api", Image: "registry.example/api:1", Replicas: 1}}}
			changes, after := tc.setup(spec)
			b := configured(t, changes)
			after()
			start := time.Now()
			resp, err := b.Apply(ctxFor(t), &sdk.ApplyRequest{Deployment: spec}, func(core.Event) {})
			if resp != nil {
				t.Cleanup(func() { destroy(t, b, spec.Ref(), resp.State) })
			}
			if err == nil {
				t.Fatal("apply succeeded, want an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("apply: %v\nwant it to name %q", err, w)
				}
			}
			if sdk.IsRetriable(err) {
				t.Errorf("apply: %v is retriable; retrying does not free a quota or bring an environment back", err)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("apply took %v to fail, want it at once", d)
			}
		})
	}
}
