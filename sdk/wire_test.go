package sdk

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/alphaswarm/controller/core"
)

func TestErrorsSurviveTheWire(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		in   error
		want error
	}{
		{"unsupported", Unsupported("gcp", "exec"), &UnsupportedError{Backend: "gcp", Op: "exec"}},
		{"unsupported with a reason", &UnsupportedError{Backend: "kubernetes", Op: "metrics", Reason: "install metrics-server"},
			&UnsupportedError{Backend: "kubernetes", Op: "metrics", Reason: "install metrics-server"}},
		{"not found", NotFound("service %q", "api"), &NotFoundError{What: `service "api"`}},
		{"invalid config", InvalidConfig("tls.ca_file", "no such file"), &InvalidConfigError{Path: "tls.ca_file", Message: "no such file"}},
		{"unavailable", &UnavailableError{Message: "engine busy", RetryAfter: 2 * time.Second},
			&UnavailableError{Message: "engine busy", RetryAfter: 2 * time.Second}},
		{"wrapped typed", fmt.Errorf("create network: %w", NotFound("network %q", "n1")), &NotFoundError{What: `network "n1"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := errorFromStatus(errorToStatus(tc.in))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("error changed on the wire (-want +got):\n%s", diff)
			}
		})
	}
}

func TestUntypedErrorsKeepTheirMessage(t *testing.T) {
	t.Parallel()
	got := errorFromStatus(errorToStatus(errors.New("pull image api:1: manifest unknown")))
	if got == nil || got.Error() != "pull image api:1: manifest unknown" {
		t.Errorf("got %v", got)
	}
	if err := errorFromStatus(errorToStatus(context.Canceled)); !errors.Is(err, context.Canceled) {
		t.Errorf("context.Canceled became %v", err)
	}
	transport := status.Error(codes.Unavailable, "connection refused")
	if !IsRetriable(errorFromStatus(transport)) {
		t.Errorf("a transport failure must be retriable")
	}
	verr := (&core.DeploymentSpec{}).Validate()
	if st, _ := status.FromError(errorToStatus(verr)); st.Code() != codes.InvalidArgument {
		t.Errorf("a validation error maps to %s, want InvalidArgument", st.Code())
	}
}

func TestSecretValuesDoNotPrint(t *testing.T) {
	t.Parallel()
	s := SecretValues{"trading/db-password": "hunter2"}
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		if out := fmt.Sprintf(format, s); strings.Contains(out, "hunter2") {
			t.Errorf("%s printed the value: %q", format, out)
		}
	}
	req := ApplyRequest{Secrets: s}
	if out := fmt.Sprintf("%+v", req); strings.Contains(out, "hunter2") {
		t.Errorf("an ApplyRequest printed the value: %q", out)
	}
}

func exampleSpec() core.DeploymentSpec {
	return core.DeploymentSpec{
		Tenant: "acme", Environment: "prod", Name: "shop",
		Services: []core.ServiceSpec{{
			Name: "api", Image: "shop/api:2", Command: []string{"/api"}, Args: []string{"-v"},
			Env:       map[string]string{"A": "1"},
			SecretEnv: []core.SecretRef{{Env: "TOKEN", Ref: "shop/token"}},
			Ports:     []core.Port{{Name: "http", Container: 8080, Host: 80, Protocol: core.ProtocolTCP}},
			Replicas:  3, Resources: core.Resources{CPU: 0.25, MemoryBytes: 64 << 20},
			Health: &core.HealthCheck{Kind: core.HealthCheckHTTP, Path: "/healthz", Port: "http",
				Interval: core.Duration(time.Second), Timeout: core.Duration(500 * time.Millisecond), Retries: 2},
			DependsOn: []string{"db"},
			Volumes:   []core.VolumeMount{{Volume: "cache", Path: "/cache", ReadOnly: true}},
			Labels:    map[string]string{"team": "shop"},
		}, {Name: "db", Image: "postgres:16", Replicas: 1}},
	}
}

func TestSpecAndStatusSurviveTheWire(t *testing.T) {
	t.Parallel()
	spec := exampleSpec()
	if diff := cmp.Diff(spec, specFromPB(specToPB(&spec))); diff != "" {
		t.Errorf("spec changed on the wire (-want +got):\n%s", diff)
	}
	exit := 137
	st := core.DeploymentStatus{
		Deployment: spec.Ref(), Health: core.HealthDegraded, Reasons: []string{"api: 2 of 3 ready"},
		ObservedAt: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC),
		Services: []core.ServiceStatus{{Name: "api", Health: core.HealthDegraded, Desired: 3, Ready: 2,
			Replicas: []core.ReplicaStatus{
				{ID: "api-1", Health: core.HealthReady, StartedAt: time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)},
				{ID: "api-2", Health: core.HealthDown, Reasons: []string{"OOM killed"}, Restarts: 4, ExitCode: &exit},
			}}},
	}
	if diff := cmp.Diff(st, statusFromPB(statusToPB(&st))); diff != "" {
		t.Errorf("status changed on the wire (-want +got):\n%s", diff)
	}
	// A health value from a newer plugin reads as unknown, not as garbage.
	p := statusToPB(&st)
	p.Services[0].Health = "hibernating"
	if got := statusFromPB(p).Services[0].Health; got != core.HealthUnknown {
		t.Errorf("unknown health read as %q, want unknown", got)
	}
}

func TestDiffServices(t *testing.T) {
	t.Parallel()
	prior := exampleSpec().Services
	next := exampleSpec().Services
	next[0].Env = map[string]string{"A": "2", "B": "new"}
	next[0].Replicas = 4
	next = append(next[:1], core.ServiceSpec{Name: "cache", Image: "redis:7", Replicas: 1})
	want := []ServiceChange{
		{Service: "api", Action: ActionUpdate, Fields: []FieldChange{
			{Path: "env.A", Before: `"1"`, After: `"2"`},
			{Path: "env.B", After: `"new"`},
			{Path: "replicas", Before: "3", After: "4"},
		}},
		{Service: "cache", Action: ActionCreate, Fields: []FieldChange{
			{Path: "image", After: `"redis:7"`}, {Path: "replicas", After: "1"},
		}},
		{Service: "db", Action: ActionDelete},
	}
	if diff := cmp.Diff(want, DiffServices(prior, next)); diff != "" {
		t.Errorf("DiffServices (-want +got):\n%s", diff)
	}
	same := DiffServices(prior, exampleSpec().Services)
	for _, c := range same {
		if c.Action != ActionNoop {
			t.Errorf("identical specs: %s is %s %+v", c.Service, c.Action, c.Fields)
		}
	}
}
