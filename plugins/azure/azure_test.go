package azure_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/plugins/azure"
	"github.com/alphaswarm/controller/plugins/azure/internal/fakearm"
	"github.com/alphaswarm/controller/sdk"
)

// configured returns an in-process backend configured against the fake.
func configured(t *testing.T, changes map[string]any) *azure.Backend {
	t.Helper()
	b, err := configuredErr(t, changes)
	if err != nil {
		t.Fatalf("configure: %v", err)
	}
	return b
}

// configuredErr is configured that returns Configure's error.
func configuredErr(t *testing.T, changes map[string]any) (*azure.Backend, error) {
	t.Helper()
	b := azure.New()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := b.Configure(ctx, &sdk.ConfigureRequest{Instance: "test", Config: config(t, changes)})
	return b, err
}

// runs numbers the deployments of this test binary: a test that counts
// the fake's calls by its deployment's name counts only its own run's
// calls when the package runs with -count=2.
var runs atomic.Int64

// unique is name followed by a number no other deployment of this binary
// has, so that "-<unique>-" is in the paths of its apps only.
func unique(name string) string {
	return fmt.Sprintf("%s%d", name, runs.Add(1))
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// appOf returns the stored app of the deployment's service.
func appOf(t *testing.T, ref core.DeploymentRef, service string) fakearm.StoredApp {
	t.Helper()
	for name, a := range fake.Apps() {
		tags := a.Model.Tags
		if tags["alphaswarm-deployment"] != nil && *tags["alphaswarm-deployment"] == ref.Name && *tags["alphaswarm-tenant"] == ref.Tenant &&
			*tags["alphaswarm-service"] == service {
			if len(name) > 32 {
				t.Errorf("app name %q is longer than 32 characters", name)
			}
			return a
		}
	}
	t.Fatalf("no app for service %s of %s", service, ref)
	return fakearm.StoredApp{}
}

func destroy(t *testing.T, b *azure.Backend, ref core.DeploymentRef, state []byte) {
	t.Helper()
	if _, err := b.Destroy(ctxFor(t), &sdk.DestroyRequest{Deployment: ref, State: state}); err != nil {
		t.Errorf("destroy: %v", err)
	}
}

// TestAppContents applies a service and reads what Azure stored: secrets
// as app secrets referenced from the environment (the value never in plain
// env), tags, probes, ingress, size; a changed secret value makes a new
// revision.
func TestAppContents(t *testing.T) {
	t.Parallel()
	b := configured(t, nil)
	spec := core.DeploymentSpec{Tenant: "acme", Environment: "prod", Name: "contents", Services: []core.ServiceSpec{{
		Name: "web", Image: "registry.example/web:1", Replicas: 2,
		Command: []string{"/web"}, Args: []string{"-v"},
		Env:       map[string]string{"MODE": "prod"},
		SecretEnv: []core.SecretRef{{Env: "DB_PASSWORD", Ref: "shop/db"}},
		Ports:     []core.Port{{Name: "http", Container: 8080, Host: 80, Protocol: core.ProtocolTCP}, {Name: "admin", Container: 9090, Protocol: core.ProtocolTCP}},
		Resources: core.Resources{CPU: 0.3, MemoryBytes: 512 << 20},
		Health:    &core.HealthCheck{Kind: core.HealthCheckHTTP, Path: "/healthz", Port: "http", Interval: core.Duration(15 * time.Second)},
	}}}
	const secret = "s3cr3t-value-never-plain"
	resp, err := b.Apply(ctxFor(t), &sdk.ApplyRequest{Deployment: spec, Secrets: sdk.SecretValues{"shop/db": secret}}, func(core.Event) {})
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	t.Cleanup(func() { destroy(t, b, spec.Ref(), resp.State) })
	a := appOf(t, spec.Ref(), "web")
	props := a.Model.Properties
	c := props.Template.Containers[0]
	env := map[string]string{}
	var secretName string
	for _, e := range c.Env {
		switch {
		case e.SecretRef != nil:
			env[*e.Name] = "secretRef:" + *e.SecretRef
			secretName = *e.SecretRef
			if e.Value != nil {
				t.Errorf("env %s has both a secretRef and a value", *e.Name)
			}
		case e.Value != nil:
			if strings.Contains(*e.Value, secret) {
				t.Errorf("the secret value is in plain env %s", *e.Name)
			}
			env[*e.Name] = *e.Value
		}
	}
	if env["MODE"] != "prod" || env["DB_PASSWORD"] != "secretRef:"+secretName || env["ALPHASWARM_SECRETS_HASH"] == "" {
		t.Errorf("env = %v, want MODE, DB_PASSWORD as a secretRef and the secrets hash", env)
	}
	if a.Secrets[secretName] != secret {
		t.Errorf("app secret %q does not hold the value", secretName)
	}
	for k, v := range a.Model.Tags {
		if strings.Contains(*v, secret) || strings.Contains(k, secret) {
			t.Errorf("tag %s shows the secret value", k)
		}
	}
	got := map[string]any{
		"tags": map[string]string{"tenant": *a.Model.Tags["alphaswarm-tenant"], "environment": *a.Model.Tags["alphaswarm-environment"],
			"deployment": *a.Model.Tags["alphaswarm-deployment"], "service": *a.Model.Tags["alphaswarm-service"]},
		"mode":     string(*props.Configuration.ActiveRevisionsMode),
		"external": *props.Configuration.Ingress.External, "target": *props.Configuration.Ingress.TargetPort,
		"extra": *props.Configuration.Ingress.AdditionalPortMappings[0].TargetPort,
		"cpu":   *c.Resources.CPU, "memory": *c.Resources.Memory,
		"probe": *c.Probes[0].HTTPGet.Path, "period": *c.Probes[0].PeriodSeconds, "probeType": string(*c.Probes[0].Type),
		"scale":   [2]int32{*props.Template.Scale.MinReplicas, *props.Template.Scale.MaxReplicas},
		"command": *c.Command[0], "args": *c.Args[0], "image": *c.Image,
	}
	want := map[string]any{
		"tags":     map[string]string{"tenant": "acme", "environment": "prod", "deployment": "contents", "service": "web"},
		"mode":     "Single",
		"external": true, "target": int32(8080), "extra": int32(9090),
		"cpu": 0.5, "memory": "1Gi",
		"probe": "/healthz", "period": int32(15), "probeType": "Readiness",
		"scale":   [2]int32{2, 2},
		"command": "/web", "args": "-v", "image": "registry.example/web:1",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("stored app (-want +got):\n%s", diff)
	}
	if n := len(fake.Calls("containerappOperationStatuses")); n < 2 {
		t.Errorf("the apply polled its operation %d times; the fake's operations are never done on the first poll", n)
	}

	// The same spec and values: nothing sent. A new value: a new revision.
	revisions := len(a.Revisions)
	resp, err = b.Apply(ctxFor(t), &sdk.ApplyRequest{Deployment: spec, PriorState: resp.State, Secrets: sdk.SecretValues{"shop/db": secret}}, func(core.Event) {})
	if err != nil {
		t.Fatalf("apply again: %v", err)
	}
	if n := len(appOf(t, spec.Ref(), "web").Revisions); n != revisions {
		t.Errorf("applying the same spec and secrets made %d revisions, want %d", n, revisions)
	}
	resp, err = b.Apply(ctxFor(t), &sdk.ApplyRequest{Deployment: spec, PriorState: resp.State, Secrets: sdk.SecretValues{"shop/db": "rotated"}}, func(core.Event) {})
	if err != nil {
		t.Fatalf("apply a rotated secret: %v", err)
	}
	a = appOf(t, spec.Ref(), "web")
	if len(a.Revisions) != revisions+1 || a.Secrets[secretName] != "rotated" {
		t.Errorf("a rotated secret gave %d revisions (want %d) and secret %q", len(a.Revisions), revisions+1, a.Secrets[secretName])
	}
}

// TestThrottlingIsRetried answers the first create with 429 and
// Retry-After: the SDK's retry policy waits and sends it again.
func TestThrottlingIsRetried(t *testing.T) {
	t.Parallel()
	b := configured(t, nil)
	name := unique("throttled")
	spec := core.DeploymentSpec{Tenant: "acme", Environment: "prod", Name: name,
		Services: []core.ServiceSpec{{Name: "api", Image: "registry.example/api:1", Replicas: 1}}}
	fake.Inject(fakearm.Fault{Method: "PUT", PathContains: "-" + name + "-api-", Status: 429, RetryAfter: time.Second,
		Code: "TooManyRequests", Message: "The request is being throttled."})
	resp, err := b.Apply(ctxFor(t), &sdk.ApplyRequest{Deployment: spec}, func(core.Event) {})
	if err != nil {
		t.Fatalf("apply through a 429: %v", err)
	}
	t.Cleanup(func() { destroy(t, b, spec.Ref(), resp.State) })
	var puts int
	for _, c := range fake.Calls("-" + name + "-api-") {
		if strings.HasPrefix(c, "PUT ") {
			puts++
		}
	}
	if puts != 2 {
		t.Errorf("%d PUTs of the app, want 2 (one throttled, one retried)", puts)
	}
}

// TestFailedProvisioning applies an image the fake marks missing: apply
// fails with Azure's message, and destroy still removes the app.
func TestFailedProvisioning(t *testing.T) {
	t.Parallel()
	b := configured(t, nil)
	fake.MarkImageMissing("registry.example/missing:1")
	spec := core.DeploymentSpec{Tenant: "acme", Environment: "prod", Name: "broken",
		Services: []core.ServiceSpec{{Name: "api", Image: "registry.example/missing:1", Replicas: 1}}}
	resp, err := b.Apply(ctxFor(t), &sdk.ApplyRequest{Deployment: spec}, func(core.Event) {})
	if err == nil || !strings.Contains(err.Error(), "MANIFEST_UNKNOWN") || !strings.Contains(err.Error(), "provision container app") {
		t.Fatalf("apply of a missing image: %v, want a provisioning error with Azure's message", err)
	}
	t.Logf("the error: %v", err)
	st, serr := b.Status(ctxFor(t), &sdk.StatusRequest{Deployment: spec.Ref(), State: resp.State})
	if serr != nil || st.Status.Service("api") == nil || st.Status.Service("api").Health != core.HealthDown {
		t.Errorf("status after a failed provisioning: %+v, %v; want api down", st, serr)
	}
	destroy(t, b, spec.Ref(), resp.State)
	for name, a := range fake.Apps() {
		if d := a.Model.Tags["alphaswarm-deployment"]; d != nil && *d == "broken" {
			t.Errorf("app %s is left after destroy", name)
		}
	}
}

// TestConfigureErrors: a wrong client secret and a missing environment
// fail Configure at their attribute, without the secret in the message.
func TestConfigureErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		changes map[string]any
		path    string
	}{
		{"wrong client secret", map[string]any{"client_secret": "not-the-secret-xyz"}, "client_secret"},
		{"missing environment", map[string]any{"environment": "no-such-env"}, "environment"},
		{"http endpoint", map[string]any{"endpoint": "http://127.0.0.1:1"}, "endpoint"},
		{"bad subscription", map[string]any{"subscription_id": "../other"}, "subscription_id"},
		{"bad prefix", map[string]any{"name_prefix": "Has-Caps"}, "name_prefix"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := azure.New().Configure(ctxFor(t), &sdk.ConfigureRequest{Instance: "bad", Config: config(t, tc.changes)})
			var invalid *sdk.InvalidConfigError
			if !errors.As(err, &invalid) || invalid.Path != tc.path {
				t.Fatalf("configure: %v, want an InvalidConfigError at %s", err, tc.path)
			}
			if strings.Contains(err.Error(), "not-the-secret-xyz") || strings.Contains(err.Error(), clientSecret) {
				t.Errorf("the error shows the client secret: %v", err)
			}
		})
	}
}
