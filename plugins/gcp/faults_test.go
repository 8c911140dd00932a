package gcp_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/sdk"
)

func oneService(name, image string) core.DeploymentSpec {
	return core.DeploymentSpec{Tenant: "faults", Environment: "test", Name: name, Services: []core.ServiceSpec{{
		Name: "api", Image: image, Replicas: 2, Ports: []core.Port{{Name: "http", Container: 8080, Protocol: core.ProtocolTCP}},
	}}}
}

// TestFailedRevision: a revision Cloud Run cannot start (its image is
// missing) fails apply with the terminal condition's message, and status
// says so; destroy removes what was created.
func TestFailedRevision(t *testing.T) {
	b := configured(t, nil)
	fake.MissingImage("registry.example/missing:1")
	spec := oneService("missing", "registry.example/missing:1")
	resp, err := b.Apply(ctx(t), &sdk.ApplyRequest{Deployment: spec}, func(core.Event) {})
	if err == nil || !strings.Contains(err.Error(), "Image 'registry.example/missing:1' not found") || !strings.Contains(err.Error(), "Revision '") {
		t.Fatalf("apply of a missing image: %v, want the failed revision's message", err)
	}
	if sdk.IsRetriable(err) {
		t.Errorf("a failed revision is retriable: %v", err)
	}
	st, err := b.Status(ctx(t), &sdk.StatusRequest{Deployment: spec.Ref(), State: resp.State})
	if err != nil {
		t.Fatalf("status: %v", err)
	}
	if ss := st.Status.Service("api"); ss == nil || ss.Health != core.HealthDown || !strings.Contains(strings.Join(ss.Reasons, ";"), "not found") {
		t.Errorf("status of a failed revision: %+v, want down with the reason", ss)
	}
	if _, err := b.Destroy(ctx(t), &sdk.DestroyRequest{Deployment: spec.Ref(), State: resp.State}); err != nil {
		t.Fatalf("destroy: %v", err)
	}
	if n := len(servicesOf(spec.Ref())); n != 0 {
		t.Errorf("%d services left after destroy", n)
	}
}

// TestFaults injects the API's faults, one at a time: each is retried where
// Cloud Run's clients retry it, or fails with a clear error, retriable when
// trying again may pass.
func TestFaults(t *testing.T) {
	cases := []struct {
		name   string
		method string
		code   codes.Code
		times  int
		// want is "" for an apply that succeeds, else words of its error.
		want      string
		retriable bool
	}{
		{"a read unavailable is retried by the client", "GetService", codes.Unavailable, 1, "", false},
		{"a poll unavailable is polled again", "GetOperation", codes.Unavailable, 2, "", false},
		{"a create unavailable is retriable", "CreateService", codes.Unavailable, 1, "create Cloud Run service", true},
		{"an exhausted quota is retriable", "CreateService", codes.ResourceExhausted, 1, "create Cloud Run service", true},
		{"expired credentials say so", "ListServices", codes.Unauthenticated, 1, "refuses the credentials", false},
		{"a missing permission says so", "CreateSecret", codes.PermissionDenied, 1, "permission denied in project", false},
		{"secret manager unavailable is retriable", "AddSecretVersion", codes.Unavailable, 1, "add a version to the secret", true},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := configured(t, nil)
			spec := oneService("fault-"+string(rune('a'+i)), "registry.example/echo:1")
			spec.Services[0].SecretEnv = []core.SecretRef{{Env: "TOKEN", Ref: "token"}}
			secrets := sdk.SecretValues{"token": "t0ken"}
			t.Cleanup(func() { b.Destroy(context.Background(), &sdk.DestroyRequest{Deployment: spec.Ref()}) })
			fake.Fail(tc.method, tc.code, tc.times)
			resp, err := b.Apply(ctx(t), &sdk.ApplyRequest{Deployment: spec, Secrets: secrets}, func(core.Event) {})
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("apply with %s on %s: %v", tc.code, tc.method, err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("apply with %s on %s: %v, want an error saying %q", tc.code, tc.method, err, tc.want)
			case tc.want != "" && sdk.IsRetriable(err) != tc.retriable:
				t.Errorf("apply with %s on %s: retriable %v, want %v (%v)", tc.code, tc.method, sdk.IsRetriable(err), tc.retriable, err)
			}
			// Once the fault has passed, apply again converges.
			if _, err := b.Apply(ctx(t), &sdk.ApplyRequest{Deployment: spec, PriorState: resp.State, Secrets: secrets}, func(core.Event) {}); err != nil {
				t.Fatalf("apply after the fault: %v", err)
			}
		})
	}
}

// TestOperationTimeout: a revision slower than operation_timeout fails
// apply, naming the operation and the setting.
func TestOperationTimeout(t *testing.T) {
	b := configured(t, map[string]any{"operation_timeout": "300ms"})
	fake.SetRevisionDelay(2 * time.Second)
	defer fake.SetRevisionDelay(150 * time.Millisecond)
	spec := oneService("slow", "registry.example/echo:1")
	t.Cleanup(func() { configured(t, nil).Destroy(context.Background(), &sdk.DestroyRequest{Deployment: spec.Ref()}) })
	_, err := b.Apply(ctx(t), &sdk.ApplyRequest{Deployment: spec}, func(core.Event) {})
	if err == nil || !strings.Contains(err.Error(), "operation_timeout") {
		t.Fatalf("apply of a slow revision: %v, want a timeout naming operation_timeout", err)
	}
}

// TestApplyRefusesWhatCloudRunCannotRun: two ports, a UDP port, a volume and
// a variable Cloud Run reserves are errors of Validate, and apply refuses
// them before touching anything.
func TestApplyRefusesWhatCloudRunCannotRun(t *testing.T) {
	b := configured(t, nil)
	spec := oneService("refused", "registry.example/echo:1")
	spec.Services[0].Ports = append(spec.Services[0].Ports, core.Port{Name: "dns", Container: 53, Protocol: core.ProtocolUDP})
	spec.Services[0].Volumes = []core.VolumeMount{{Volume: "data", Path: "/data"}}
	spec.Services[0].Env = map[string]string{"PORT": "9090"}
	v, err := b.Validate(ctx(t), &sdk.ValidateRequest{Deployment: spec})
	if err != nil {
		t.Fatalf("validate: %v", err)
	}
	paths := map[string]bool{}
	for _, d := range v.Diagnostics {
		if d.Severity == sdk.SeverityError {
			paths[d.Path] = true
		}
	}
	for _, p := range []string{"service.api.port", "service.api.port.dns.protocol", "service.api.volume", "service.api.env"} {
		if !paths[p] {
			t.Errorf("validate: no error at %s in %+v", p, v.Diagnostics)
		}
	}
	if _, err := b.Apply(ctx(t), &sdk.ApplyRequest{Deployment: spec}, func(core.Event) {}); err == nil || !strings.Contains(err.Error(), "cannot run on Cloud Run") {
		t.Errorf("apply: %v, want a refusal", err)
	}
	if n := len(servicesOf(spec.Ref())); n != 0 {
		t.Errorf("a refused apply created %d services", n)
	}
}
