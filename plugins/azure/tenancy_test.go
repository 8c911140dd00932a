package azure_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/sdk"
)

// TestForeignAppIsLeftAlone: an app with a deployment's name that carries
// another deployment's tags (another tenant's, or the operator's own) is
// never updated, reported or deleted as the deployment's.
func TestForeignAppIsLeftAlone(t *testing.T) {
	t.Parallel()
	b := configured(t, nil)
	spec := core.DeploymentSpec{Tenant: "acme", Environment: "prod", Name: "foreign",
		Services: []core.ServiceSpec{{Name: "api", Image: "registry.example/api:1", Replicas: 1}}}
	resp, err := b.Apply(ctxFor(t), &sdk.ApplyRequest{Deployment: spec}, func(core.Event) {})
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	// Someone else takes the app over: its tags say tenant "other".
	a := appOf(t, spec.Ref(), "api")
	name := *a.Model.Name
	apps := directClient(t)
	cur, err := apps.Get(ctxFor(t), group, name, nil)
	if err != nil {
		t.Fatal(err)
	}
	other := "other"
	cur.Tags["alphaswarm-tenant"] = &other
	cur.Properties.Configuration.Secrets = nil
	cur.Properties.Configuration.Ingress = nil
	p, err := apps.BeginCreateOrUpdate(ctxFor(t), group, name, cur.ContainerApp, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.PollUntilDone(ctxFor(t), &runtime.PollUntilDoneOptions{Frequency: time.Second}); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if p, err := apps.BeginDelete(ctxFor(t), group, name, nil); err == nil {
			_, _ = p.PollUntilDone(ctxFor(t), &runtime.PollUntilDoneOptions{Frequency: time.Second})
		}
	}()

	spec.Services[0].Env = map[string]string{"CHANGED": "1"}
	if _, err := b.Apply(ctxFor(t), &sdk.ApplyRequest{Deployment: spec, PriorState: resp.State}, func(core.Event) {}); err == nil ||
		!strings.Contains(err.Error(), "does not belong") {
		t.Errorf("apply over another deployment's app: %v, want a refusal", err)
	}
	for op, call := range map[string]func() error{
		"stop": func() error {
			_, err := b.Stop(ctxFor(t), &sdk.StopRequest{Deployment: spec.Ref(), State: resp.State, Service: "api"})
			return err
		},
		"restart": func() error {
			_, err := b.Restart(ctxFor(t), &sdk.RestartRequest{Deployment: spec.Ref(), State: resp.State, Service: "api"})
			return err
		},
		"scale": func() error {
			_, err := b.Scale(ctxFor(t), &sdk.ScaleRequest{Deployment: spec.Ref(), State: resp.State, Service: "api", Replicas: 3})
			return err
		},
	} {
		var notFound *sdk.NotFoundError
		if err := call(); !errors.As(err, &notFound) {
			t.Errorf("%s of another deployment's app: %v, want NotFound", op, err)
		}
	}
	st, err := b.Status(ctxFor(t), &sdk.StatusRequest{Deployment: spec.Ref(), State: resp.State})
	if err != nil || st.Status.Service("api") == nil || st.Status.Service("api").Health != core.HealthMissing {
		t.Errorf("status: %+v, %v; want api missing (the app is not this deployment's)", st, err)
	}
	if _, err := b.Destroy(ctxFor(t), &sdk.DestroyRequest{Deployment: spec.Ref(), State: resp.State}); err != nil {
		t.Fatalf("destroy: %v", err)
	}
	if _, ok := fake.Apps()[name]; !ok {
		t.Errorf("destroy deleted app %s, which another deployment's tags claim", name)
	}
}
