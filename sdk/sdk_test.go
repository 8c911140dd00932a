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

// TestErrorsMapToStatusCodes checks the server half of error transport:
// each typed error leaves with its gRPC code (pluginhost's tests read them
// back across a real connection).
func TestErrorsMapToStatusCodes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   error
		want codes.Code
	}{
		{Unsupported("gcp", "exec"), codes.Unimplemented},
		{fmt.Errorf("create network: %w", NotFound("network %q", "n1")), codes.NotFound},
		{InvalidConfig("tls.ca_file", "no such file"), codes.InvalidArgument},
		{fmt.Errorf("exec: %w", InvalidRequest("argument %d holds whitespace", 2)), codes.InvalidArgument},
		{&UnavailableError{Message: "engine busy", RetryAfter: 2 * time.Second}, codes.Unavailable},
		{(&core.DeploymentSpec{}).Validate(), codes.InvalidArgument},
		{context.Canceled, codes.Canceled},
		{context.DeadlineExceeded, codes.DeadlineExceeded},
		{errors.New("pull image api:1: manifest unknown"), codes.Internal},
	}
	for _, tc := range cases {
		if st, _ := status.FromError(errorToStatus(tc.in)); st.Code() != tc.want {
			t.Errorf("%v maps to %s, want %s", tc.in, st.Code(), tc.want)
		}
	}
	if errorToStatus(nil) != nil {
		t.Errorf("nil error maps to a status")
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
