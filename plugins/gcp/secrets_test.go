package gcp_test

import (
	"context"
	"strings"
	"testing"

	"cloud.google.com/go/secretmanager/apiv1/secretmanagerpb"
	"github.com/google/go-cmp/cmp"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/sdk"
)

// TestSecretRotation: a changed value is a new version that the services
// pin; once their new revisions are ready the older versions are
// destroyed, their values gone from Secret Manager. A rollout that fails
// keeps them, since the revision still serving reads one.
func TestSecretRotation(t *testing.T) {
	b := configured(t, nil)
	spec := shop()
	spec.Name = "rotate"
	ref := spec.Ref()
	t.Cleanup(func() { b.Destroy(context.Background(), &sdk.DestroyRequest{Deployment: ref}) })
	apply := func(spec core.DeploymentSpec, prior []byte, value string) ([]byte, error) {
		t.Helper()
		resp, err := b.Apply(ctx(t), &sdk.ApplyRequest{Deployment: spec, PriorState: prior, Secrets: sdk.SecretValues{"shop/db-password": value}}, func(core.Event) {})
		if resp == nil {
			return prior, err
		}
		return resp.State, err
	}
	const enabled, destroyed = secretmanagerpb.SecretVersion_ENABLED, secretmanagerpb.SecretVersion_DESTROYED
	check := func(when string, values []string, states []secretmanagerpb.SecretVersion_State) string {
		t.Helper()
		secrets := secretsOf(ref)
		if len(secrets) != 1 {
			t.Fatalf("%s: secrets %v, want one", when, secrets)
		}
		for name := range secrets {
			got := fake.Secrets()[name]
			if diff := cmp.Diff(values, got.Versions); diff != "" {
				t.Errorf("%s: version payloads (-want +got):\n%s", when, diff)
			}
			if diff := cmp.Diff(states, got.States); diff != "" {
				t.Errorf("%s: version states (-want +got):\n%s", when, diff)
			}
			return name
		}
		return ""
	}
	pins := func(when, name, version string, services ...string) {
		t.Helper()
		running := servicesOf(ref)
		for _, s := range services {
			if got := env(running[s].Template.Containers[0])["DB_PASSWORD"]; got != "secret:"+name+"@"+version {
				t.Errorf("%s: %s reads %s, want version %s", when, s, got, version)
			}
		}
	}

	st, err := apply(spec, nil, "first")
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	name := check("after the first apply", []string{"first"}, []secretmanagerpb.SecretVersion_State{enabled})
	pins("after the first apply", name, "1", "db", "api")
	readyAPI := servicesOf(ref)["api"].LatestReadyRevision

	// A rotation whose rollout fails (api's new image is missing) adds
	// the version and destroys nothing: api's ready revision reads 1.
	fake.MissingImage("registry.example/api:missing")
	broken := shop()
	broken.Name = "rotate"
	broken.Services[1].Image = "registry.example/api:missing"
	destroys := fake.Calls("DestroySecretVersion")
	st, err = apply(broken, st, "second")
	if err == nil || !strings.Contains(err.Error(), "Image 'registry.example/api:missing' not found") {
		t.Fatalf("apply of a missing image: %v, want the failed revision's message", err)
	}
	check("after a failed rollout", []string{"first", "second"}, []secretmanagerpb.SecretVersion_State{enabled, enabled})
	if got := servicesOf(ref)["api"].LatestReadyRevision; got != readyAPI {
		t.Errorf("after a failed rollout api's ready revision is %s, want %s", got, readyAPI)
	}
	if n := fake.Calls("DestroySecretVersion") - destroys; n != 0 {
		t.Errorf("a failed rollout destroyed %d versions", n)
	}

	// The rollout that succeeds pins 2 everywhere and destroys 1.
	st, err = apply(spec, st, "second")
	if err != nil {
		t.Fatalf("apply after the failure: %v", err)
	}
	check("after the rotation", []string{"", "second"}, []secretmanagerpb.SecretVersion_State{destroyed, enabled})
	pins("after the rotation", name, "2", "db", "api")

	// Rotating again destroys 2, and only 2.
	destroys = fake.Calls("DestroySecretVersion")
	if st, err = apply(spec, st, "third"); err != nil {
		t.Fatalf("apply a second rotation: %v", err)
	}
	check("after a second rotation", []string{"", "", "third"}, []secretmanagerpb.SecretVersion_State{destroyed, destroyed, enabled})
	pins("after a second rotation", name, "3", "db", "api")
	if n := fake.Calls("DestroySecretVersion") - destroys; n != 1 {
		t.Errorf("a second rotation made %d DestroySecretVersion calls, want 1", n)
	}

	// The same value again adds and destroys nothing, and the services
	// keep their revisions.
	before := servicesOf(ref)
	destroys = fake.Calls("DestroySecretVersion")
	if _, err = apply(spec, st, "third"); err != nil {
		t.Fatalf("apply the same value: %v", err)
	}
	check("after the same value again", []string{"", "", "third"}, []secretmanagerpb.SecretVersion_State{destroyed, destroyed, enabled})
	if n := fake.Calls("DestroySecretVersion") - destroys; n != 0 {
		t.Errorf("an unchanged value made %d DestroySecretVersion calls", n)
	}
	for s, svc := range servicesOf(ref) {
		if svc.LatestReadyRevision != before[s].LatestReadyRevision {
			t.Errorf("an unchanged value rolled %s to %s", s, svc.LatestReadyRevision)
		}
	}
}
