package pluginhost

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/sdk"
)

// execReason is what ../internal/testplugin says of exec.
const execReason = "the minimal backend runs no process to exec into"

// TestUnsupportedReasonCrossesTheProcess launches the test plugin, which
// declares no optional capability and gives a reason for exec alone
// (sdk.UnsupportedReasoner): each undeclared operation fails with an
// UnsupportedError naming the plugin and the operation, exec's with the
// reason; a second call gets the answer the client remembered.
func TestUnsupportedReasonCrossesTheProcess(t *testing.T) {
	t.Parallel()
	c := launchTestPlugin(t)
	ctx := context.Background()
	ref := core.DeploymentRef{Tenant: "acme", Environment: "test", Name: "web"}
	cases := []struct {
		op   string
		call func() error
		want *sdk.UnsupportedError
	}{
		{"exec", func() error {
			_, err := c.Exec(ctx, &sdk.ExecRequest{Deployment: ref, Service: "api", Command: []string{"sh"}}, sdk.ExecStreams{})
			return err
		}, &sdk.UnsupportedError{Backend: "minimal", Op: "exec", Reason: execReason}},
		{"metrics", func() error {
			_, err := c.Metrics(ctx, &sdk.MetricsRequest{Deployment: ref})
			return err
		}, &sdk.UnsupportedError{Backend: "minimal", Op: "metrics"}},
		{"logs", func() error {
			return c.Logs(ctx, &sdk.LogsRequest{Deployment: ref}, func(sdk.LogLine) error { return nil })
		}, &sdk.UnsupportedError{Backend: "minimal", Op: "logs"}},
		{"restart", func() error {
			_, err := c.Restart(ctx, &sdk.RestartRequest{Deployment: ref})
			return err
		}, &sdk.UnsupportedError{Backend: "minimal", Op: "restart"}},
	}
	for _, tc := range cases {
		t.Run(tc.op, func(t *testing.T) {
			t.Parallel()
			var first, second *sdk.UnsupportedError
			if err := tc.call(); !errors.As(err, &first) {
				t.Fatalf("%s: %v, want an UnsupportedError", tc.op, err)
			}
			if diff := cmp.Diff(tc.want, first); diff != "" {
				t.Errorf("%s answered (-want +got):\n%s", tc.op, diff)
			}
			if err := tc.call(); !errors.As(err, &second) || second != first {
				t.Errorf("%s again: %v, want the answer the client remembered", tc.op, err)
			}
		})
	}
	if got := (&sdk.UnsupportedError{Backend: "minimal", Op: "exec", Reason: execReason}).Error(); got != `backend "minimal" does not support exec: `+execReason {
		t.Errorf("the error reads %q", got)
	}
}

// metricsLater declares metrics and answers Unsupported at run time, as a
// backend on a cluster without metrics does.
type metricsLater struct{ failing }

func (m *metricsLater) Metrics(context.Context, *sdk.MetricsRequest) (*sdk.MetricsResponse, error) {
	return nil, &sdk.UnsupportedError{Backend: "failing", Op: "metrics", Reason: "the cluster has no metrics"}
}

// TestDeclaredUnsupportedIsNotRemembered: an Unsupported answer of a
// declared capability depends on the moment, so the client asks each time.
func TestDeclaredUnsupportedIsNotRemembered(t *testing.T) {
	t.Parallel()
	c := serve(t, &metricsLater{})
	var first, second *sdk.UnsupportedError
	_, err := c.Metrics(context.Background(), &sdk.MetricsRequest{})
	if !errors.As(err, &first) || first.Reason != "the cluster has no metrics" {
		t.Fatalf("metrics: %v, want Unsupported with the backend's reason", err)
	}
	_, err = c.Metrics(context.Background(), &sdk.MetricsRequest{})
	if !errors.As(err, &second) || second == first {
		t.Errorf("metrics again: %v (%p, first %p), want a fresh answer from the plugin", err, second, first)
	}
}
