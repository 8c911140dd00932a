package pluginhost

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/sdk"
)

// failing is a backend whose Configure returns err and whose Info declares
// schema: the smallest thing that sends an error and a schema across.
type failing struct {
	err    error
	schema sdk.Schema
}

func (f *failing) Info(context.Context) (*sdk.InfoResponse, error) {
	return &sdk.InfoResponse{Name: "failing", Version: "0.0.1", ConfigSchema: f.schema}, nil
}
func (f *failing) Configure(context.Context, *sdk.ConfigureRequest) (*sdk.ConfigureResponse, error) {
	return nil, f.err
}
func (f *failing) Validate(context.Context, *sdk.ValidateRequest) (*sdk.ValidateResponse, error) {
	return &sdk.ValidateResponse{}, nil
}
func (f *failing) Plan(context.Context, *sdk.PlanRequest) (*sdk.PlanResponse, error) {
	return &sdk.PlanResponse{}, nil
}
func (f *failing) Apply(context.Context, *sdk.ApplyRequest, sdk.ProgressFunc) (*sdk.ApplyResponse, error) {
	return &sdk.ApplyResponse{}, nil
}
func (f *failing) Destroy(context.Context, *sdk.DestroyRequest) (*sdk.DestroyResponse, error) {
	return &sdk.DestroyResponse{}, nil
}
func (f *failing) Status(_ context.Context, req *sdk.StatusRequest) (*sdk.StatusResponse, error) {
	return &sdk.StatusResponse{Status: core.DeploymentStatus{Deployment: req.Deployment, Health: core.HealthMissing}}, nil
}

func serve(t *testing.T, b sdk.Backend) *Client {
	t.Helper()
	c, err := ServeInProcess(context.Background(), b)
	if err != nil {
		t.Fatalf("serve in process: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

// typedOf returns the first sdk error type in err's chain, or err.
func typedOf(err error) error {
	for e := err; e != nil; e = errors.Unwrap(e) {
		switch e.(type) {
		case *sdk.UnsupportedError, *sdk.NotFoundError, *sdk.InvalidConfigError, *sdk.InvalidRequestError, *sdk.UnavailableError:
			return e
		}
	}
	return err
}

// TestErrorsSurviveTheWire sends each typed error from a backend, through
// sdk's server and a gRPC connection, to the Client.
func TestErrorsSurviveTheWire(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		in   error
		want error
	}{
		{"unsupported", sdk.Unsupported("gcp", "exec"), &sdk.UnsupportedError{Backend: "gcp", Op: "exec"}},
		{"unsupported with a reason", &sdk.UnsupportedError{Backend: "kubernetes", Op: "metrics", Reason: "install metrics-server"},
			&sdk.UnsupportedError{Backend: "kubernetes", Op: "metrics", Reason: "install metrics-server"}},
		{"not found", sdk.NotFound("service %q", "api"), &sdk.NotFoundError{What: `service "api"`}},
		{"invalid config", sdk.InvalidConfig("tls.ca_file", "no such file"), &sdk.InvalidConfigError{Path: "tls.ca_file", Message: "no such file"}},
		{"invalid request, wrapped", fmt.Errorf("exec in replica r1: %w", sdk.InvalidRequest("argument 2 holds whitespace")),
			&sdk.InvalidRequestError{Message: "exec in replica r1: argument 2 holds whitespace"}},
		{"core validation", core.ValidationError{{Path: "services.api.replicas", Message: "must be at least 0"}},
			&sdk.InvalidRequestError{Message: core.ValidationError{{Path: "services.api.replicas", Message: "must be at least 0"}}.Error()}},
		{"unavailable", &sdk.UnavailableError{Message: "engine busy", RetryAfter: 2 * time.Second},
			&sdk.UnavailableError{Message: "engine busy", RetryAfter: 2 * time.Second}},
		{"wrapped typed", fmt.Errorf("create network: %w", sdk.NotFound("network %q", "n1")), &sdk.NotFoundError{What: `network "n1"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := serve(t, &failing{err: tc.in})
			_, err := c.Configure(context.Background(), &sdk.ConfigureRequest{})
			if diff := cmp.Diff(tc.want, typedOf(err)); diff != "" {
				t.Errorf("error changed on the wire (-want +got):\n%s", diff)
			}
		})
	}
}

func TestUntypedErrorsKeepTheirMessage(t *testing.T) {
	t.Parallel()
	c := serve(t, &failing{err: errors.New("pull image api:1: manifest unknown")})
	_, err := c.Configure(context.Background(), &sdk.ConfigureRequest{})
	if want := `plugin "failing": configure: pull image api:1: manifest unknown`; err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
	c = serve(t, &failing{err: fmt.Errorf("wait for engine: %w", context.Canceled)})
	if _, err := c.Configure(context.Background(), &sdk.ConfigureRequest{}); !errors.Is(err, context.Canceled) {
		t.Errorf("context.Canceled became %v", err)
	}
	if !sdk.IsRetriable(errorFromStatus(status.Error(codes.Unavailable, "connection refused"))) {
		t.Errorf("a transport failure must be retriable")
	}
}

func TestSchemaSurvivesTheWire(t *testing.T) {
	t.Parallel()
	schema := sdk.Schema{
		Attributes: []sdk.Attribute{
			{Name: "address", Type: sdk.TypeString, Required: true},
			{Name: "timeout", Type: sdk.TypeString, Default: "30s", TenantSettable: true},
			{Name: "qps", Type: sdk.TypeNumber, Default: 5},
			{Name: "labels", Type: sdk.MapOf(sdk.TypeString)},
			{Name: "password", Type: sdk.TypeString, Sensitive: true},
		},
		Blocks: []sdk.Block{
			{Name: "tls", Nesting: sdk.NestingSingle, Schema: sdk.Schema{Attributes: []sdk.Attribute{
				{Name: "ca_file", Type: sdk.TypeString, Required: true},
			}}},
			{Name: "endpoint", Nesting: sdk.NestingList, MaxItems: 2, Schema: sdk.Schema{Attributes: []sdk.Attribute{
				{Name: "url", Type: sdk.TypeString, Required: true},
			}}},
		},
	}
	c := serve(t, &failing{schema: schema})
	// Defaults travel as JSON, so numbers come back as float64.
	want := schema
	want.Attributes = append([]sdk.Attribute(nil), schema.Attributes...)
	want.Attributes[2].Default = float64(5)
	if diff := cmp.Diff(want, c.Info().ConfigSchema); diff != "" {
		t.Errorf("schema changed on the wire (-want +got):\n%s", diff)
	}
	if info := c.Info(); info.Name != "failing" || info.Protocol != sdk.ProtocolVersion || len(info.Capabilities) != 0 {
		t.Errorf("Info() = %+v", info)
	}
}
