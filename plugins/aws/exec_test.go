package aws_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/alphaswarm/controller/sdk"
)

// TestExecSaysWhy: the plugin does not declare exec, and an exec through
// the plugin process answers Unsupported naming the backend and saying
// why (the SSM Session Manager data channel), as swarmctl exec prints it.
func TestExecSaysWhy(t *testing.T) {
	t.Parallel()
	c := configured(t, configWith())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if c.Info().Capabilities.Has(sdk.CapExec) {
		t.Fatalf("capabilities %v declare exec", c.Info().Capabilities)
	}
	spec := newSpec("exec", "api")
	_, err := c.Exec(ctx, &sdk.ExecRequest{Deployment: spec.Ref(), Service: "api", Command: []string{"sh"}}, sdk.ExecStreams{})
	var u *sdk.UnsupportedError
	if !errors.As(err, &u) || u.Backend != "aws" || u.Op != "exec" {
		t.Fatalf("exec: %v, want Unsupported naming aws and exec", err)
	}
	for _, want := range []string{`backend "aws" does not support exec: `, "ExecuteCommand", "SSM Session Manager data channel"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("exec: %q does not say %q", err, want)
		}
	}
}
