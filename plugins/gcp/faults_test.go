package gcp_test

import (
	"context"
	"fmt"
	"slices"
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

// What Google answers a call whose access token has expired, and one over
// a quota.
const (
	expiredToken  = "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project."
	quotaExceeded = "Quota exceeded for quota metric 'Write requests' and limit 'Write requests per minute per region' of service 'run.googleapis.com' for consumer 'project_number:123456789012'."
)

// faulty is the deployment of the fault tables: api, with a secret, which
// web depends on, so that apply touches Run, its operations, Secret
// Manager and a service's IAM policy.
func faulty(name string) (core.DeploymentSpec, sdk.SecretValues) {
	spec := withDeps("faults", name, map[string][]string{"api": nil, "web": {"api"}})
	spec.Service("api").SecretEnv = []core.SecretRef{{Env: "TOKEN", Ref: "token"}}
	return spec, sdk.SecretValues{"token": "t0ken"}
}

// checkGone fails t unless the deployment left no service and no secret.
func checkGone(t *testing.T, ref core.DeploymentRef) {
	t.Helper()
	if s, x := servicesOf(ref), secretsOf(ref); len(s) != 0 || len(x) != 0 {
		t.Errorf("after destroy: %d services and %d secrets left", len(s), len(x))
	}
}

// TestFaults injects the APIs' faults, one at a time, into an apply: what
// Google documents as retryable is retried (the Run client retries reads
// that are UNAVAILABLE; the plugin polls an operation again and makes a
// policy's read-modify-write again), the rest fails at once, with an error
// that names the API, the object and Google's cause, retriable when
// trying again later may pass. Calls counts the calls of one method, to
// tell a retry from a single call. Once the fault has passed, apply
// converges, and destroy leaves nothing.
//
// The cases run one after another: a fault is injected per method into
// the fake every test shares.
func TestFaults(t *testing.T) {
	cases := []struct {
		name   string
		inject func()
		// calls is a method whose calls are counted, wantCalls how many
		// the apply makes; "" counts nothing.
		calls     string
		wantCalls int
		// want is nil for an apply that succeeds, else words of its error.
		want      []string
		retriable bool
	}{
		{name: "a Cloud Run read unavailable is retried by the client", inject: func() { fake.Fail("GetService", codes.Unavailable, 1) },
			calls: "GetService", wantCalls: 3},
		{name: "a poll unavailable is polled again", inject: func() { fake.Fail("GetOperation", codes.Unavailable, 2) }},
		{name: "a poll over quota is polled again", inject: func() { fake.FailWith("GetOperation", codes.ResourceExhausted, quotaExceeded, 1) }},
		{name: "a slow revision is waited for", inject: func() { fake.SetRevisionDelay(1500 * time.Millisecond) }},
		{name: "a create unavailable fails at once, retriable", inject: func() { fake.Fail("CreateService", codes.Unavailable, 1) },
			calls: "CreateService", wantCalls: 1, want: []string{"create Cloud Run service as-faults-test-", "Unavailable"}, retriable: true},
		{name: "a create over quota fails at once, retriable", inject: func() { fake.FailWith("CreateService", codes.ResourceExhausted, quotaExceeded, 1) },
			calls: "CreateService", wantCalls: 1, want: []string{"create Cloud Run service as-faults-test-", "ResourceExhausted", "Quota exceeded"}, retriable: true},
		{name: "an expired token on Cloud Run says so", inject: func() { fake.FailWith("CreateService", codes.Unauthenticated, expiredToken, 1) },
			calls: "CreateService", wantCalls: 1, want: []string{"create Cloud Run service as-faults-test-", "refuses the credentials", "invalid authentication credentials"}},
		{name: "an expired token on a poll says so", inject: func() { fake.FailWith("GetOperation", codes.Unauthenticated, expiredToken, 1) },
			calls: "GetOperation", wantCalls: 1, want: []string{"apply service api: poll Cloud Run operation", "refuses the credentials"}},
		{name: "an expired token on Secret Manager says so", inject: func() { fake.FailWith("CreateSecret", codes.Unauthenticated, expiredToken, 1) },
			calls: "CreateSecret", wantCalls: 1, want: []string{"create the Secret Manager secret of \"token\"", "refuses the credentials"}},
		{name: "a missing permission says so", inject: func() { fake.Fail("CreateSecret", codes.PermissionDenied, 1) },
			calls: "CreateSecret", wantCalls: 1, want: []string{"Secret Manager secret", "permission denied in project alphaswarm-test"}},
		{name: "Secret Manager unavailable is retriable", inject: func() { fake.Fail("AddSecretVersion", codes.Unavailable, 1) },
			calls: "AddSecretVersion", wantCalls: 1, want: []string{"add a version to the Secret Manager secret of \"token\"", "Unavailable"}, retriable: true},
		{name: "an operation that fails says why", inject: func() {
			fake.FailOperations(codes.Internal, "Revision 'x' failed: internal error deploying the revision.", 1)
		},
			want: []string{"apply service api: Cloud Run operation op-", "failed: Revision 'x' failed: internal error deploying the revision. (Internal)"}},
		{name: "a policy read unavailable is read again", inject: func() { fake.Fail("Services/GetIamPolicy", codes.Unavailable, 1) },
			calls: "Services/GetIamPolicy", wantCalls: 2},
		{name: "a policy write racing another writer is made again", inject: func() { fake.ConcurrentPolicyChanges(1) },
			calls: "Services/SetIamPolicy", wantCalls: 2},
		{name: "a policy that keeps changing fails, retriable", inject: func() { fake.ConcurrentPolicyChanges(5) },
			calls: "Services/SetIamPolicy", wantCalls: 5, retriable: true,
			want: []string{"grant " + runner + " roles/run.invoker on Cloud Run service as-faults-test-", "write the policy (attempt 5 of 5)", "Aborted", "concurrent policy changes"}},
		{name: "a policy write denied says so", inject: func() { fake.Fail("Services/SetIamPolicy", codes.PermissionDenied, 1) },
			calls: "Services/SetIamPolicy", wantCalls: 1, want: []string{"grant " + runner + " roles/run.invoker on Cloud Run service", "permission denied in project"}},
	}
	b := configured(t, map[string]any{"service_account": runner})
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			spec, secrets := faulty(fmt.Sprintf("apply-%02d", i))
			t.Cleanup(func() {
				fake.SetRevisionDelay(150 * time.Millisecond)
				b.Destroy(context.Background(), &sdk.DestroyRequest{Deployment: spec.Ref()})
			})
			calls := fake.Calls(tc.calls)
			tc.inject()
			resp, err := b.Apply(ctx(t), &sdk.ApplyRequest{Deployment: spec, Secrets: secrets}, func(core.Event) {})
			fake.SetRevisionDelay(150 * time.Millisecond)
			checkError(t, "apply", err, tc.want, tc.retriable)
			if n := fake.Calls(tc.calls) - calls; tc.calls != "" && n != tc.wantCalls {
				t.Errorf("apply called %s %d times, want %d", tc.calls, n, tc.wantCalls)
			}
			// Once the fault has passed, apply converges, and destroy
			// leaves nothing.
			resp, err = b.Apply(ctx(t), &sdk.ApplyRequest{Deployment: spec, PriorState: resp.State, Secrets: secrets}, func(core.Event) {})
			if err != nil {
				t.Fatalf("apply after the fault: %v", err)
			}
			if p := policiesOf(spec.Ref())["api"]; !slices.Contains(p, "roles/run.invoker serviceAccount:"+runner) {
				t.Errorf("after the fault, api's policy is %q, without the runner's invoker binding", p)
			}
			if _, err := b.Destroy(ctx(t), &sdk.DestroyRequest{Deployment: spec.Ref(), State: resp.State}); err != nil {
				t.Fatalf("destroy: %v", err)
			}
			checkGone(t, spec.Ref())
		})
	}
}

// checkError fails t unless err is what want says: nil for nil, else an
// error with each of want's words, retriable as said.
func checkError(t *testing.T, op string, err error, want []string, retriable bool) {
	t.Helper()
	switch {
	case want == nil && err != nil:
		t.Fatalf("%s: %v", op, err)
	case want != nil && err == nil:
		t.Fatalf("%s succeeded, want an error saying %q", op, want)
	}
	if err != nil {
		t.Logf("%s: %v", op, err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%s: %v, want an error saying %q", op, err, w)
		}
	}
	if want != nil && sdk.IsRetriable(err) != retriable {
		t.Errorf("%s: retriable %v, want %v (%v)", op, sdk.IsRetriable(err), retriable, err)
	}
}

// TestDestroyFaults injects faults into a destroy: it fails with a clear
// error, and a destroy once the fault has passed leaves nothing.
func TestDestroyFaults(t *testing.T) {
	cases := []struct {
		name      string
		inject    func()
		want      []string
		retriable bool
	}{
		{"a deletion that fails says why", func() { fake.FailOperations(codes.Internal, "Internal error deleting the service.", 1) },
			[]string{"delete service ", "Cloud Run operation op-", "failed: Internal error deleting the service. (Internal)"}, false},
		{"a delete unavailable is retriable", func() { fake.Fail("DeleteService", codes.Unavailable, 1) },
			[]string{"delete Cloud Run service as-faults-test-", "Unavailable"}, true},
		{"an expired token says so", func() { fake.FailWith("ListServices", codes.Unauthenticated, expiredToken, 1) },
			[]string{"list Cloud Run services", "refuses the credentials"}, false},
		{"Secret Manager unavailable is retriable", func() { fake.Fail("DeleteSecret", codes.Unavailable, 1) },
			[]string{"delete Secret Manager secret as-faults-test-", "Unavailable"}, true},
	}
	b := configured(t, map[string]any{"service_account": runner})
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			spec, secrets := faulty(fmt.Sprintf("destroy-%02d", i))
			t.Cleanup(func() { b.Destroy(context.Background(), &sdk.DestroyRequest{Deployment: spec.Ref()}) })
			resp, err := b.Apply(ctx(t), &sdk.ApplyRequest{Deployment: spec, Secrets: secrets}, func(core.Event) {})
			if err != nil {
				t.Fatalf("apply: %v", err)
			}
			tc.inject()
			_, err = b.Destroy(ctx(t), &sdk.DestroyRequest{Deployment: spec.Ref(), State: resp.State})
			checkError(t, "destroy", err, tc.want, tc.retriable)
			if _, err := b.Destroy(ctx(t), &sdk.DestroyRequest{Deployment: spec.Ref(), State: resp.State}); err != nil {
				t.Fatalf("destroy after the fault: %v", err)
			}
			checkGone(t, spec.Ref())
		})
	}
}

// TestOperationTimeout: a revision slower than operation_timeout fails
// apply, naming the operation and the setting, and is not retriable; a
// destroy (with the default timeout) still leaves nothing.
func TestOperationTimeout(t *testing.T) {
	b := configured(t, map[string]any{"operation_timeout": "300ms"})
	fake.SetRevisionDelay(2 * time.Second)
	defer fake.SetRevisionDelay(150 * time.Millisecond)
	spec := oneService("slow", "registry.example/echo:1")
	t.Cleanup(func() { configured(t, nil).Destroy(context.Background(), &sdk.DestroyRequest{Deployment: spec.Ref()}) })
	resp, err := b.Apply(ctx(t), &sdk.ApplyRequest{Deployment: spec}, func(core.Event) {})
	checkError(t, "apply of a slow revision", err, []string{"apply service api: operation ", "not done after 300ms (operation_timeout)"}, false)
	if _, err := configured(t, nil).Destroy(ctx(t), &sdk.DestroyRequest{Deployment: spec.Ref(), State: resp.State}); err != nil {
		t.Fatalf("destroy: %v", err)
	}
	checkGone(t, spec.Ref())
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
