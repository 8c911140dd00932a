package gcp

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"cloud.google.com/go/run/apiv2/runpb"
	gax "github.com/googleapis/gax-go/v2"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/alphaswarm/controller/sdk"
)

// operationPoll paces the polls of a long-running operation: Cloud Run
// takes seconds to tens of seconds to roll a revision out.
var operationPoll = sdk.PollOptions{Interval: 100 * time.Millisecond, MaxInterval: 3 * time.Second, Multiplier: 1.5}

// serviceOperation is what the Run client's Create, Update and Delete
// operations have in common.
type serviceOperation interface {
	Poll(ctx context.Context, opts ...gax.CallOption) (*runpb.Service, error)
	Metadata() (*runpb.Service, error)
	Done() bool
	Name() string
}

// wait polls op until it is done, reporting what the service's metadata
// says as it changes: reconciling, its conditions, the revision created.
// A failed operation, or a service whose terminal condition failed, is an
// error with Cloud Run's message.
func (b *Backend) wait(ctx context.Context, what, service string, op serviceOperation, report *sdk.Progress) (*runpb.Service, error) {
	got, err := b.waitDone(ctx, what, service, op, report)
	if err != nil {
		return got, err
	}
	if tc := got.GetTerminalCondition(); tc != nil && tc.State == runpb.Condition_CONDITION_FAILED {
		return got, fmt.Errorf("%s: revision %s failed: %s", what, short(got.LatestCreatedRevision), tc.Message)
	}
	return got, nil
}

// waitDone polls op until it is done, as wait does, whatever the service's
// terminal condition: a deletion's result is the service as it was.
func (b *Backend) waitDone(ctx context.Context, what, service string, op serviceOperation, report *sdk.Progress) (*runpb.Service, error) {
	var result *runpb.Service
	last := ""
	opts := operationPoll
	opts.Timeout = b.cfg.operationTimeout
	err := sdk.Poll(ctx, opts, func(ctx context.Context) (bool, error) {
		svc, err := op.Poll(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return false, ctx.Err()
			}
			if op.Done() {
				return false, failure(what, op.Name(), err) // the operation failed
			}
			if s, ok := status.FromError(err); ok && retriable(s.Code()) {
				return false, nil // the poll failed, not the operation: ask again
			}
			return false, b.apiError(ctx, fmt.Sprintf("%s: poll Cloud Run operation %s", what, short(op.Name())), err)
		}
		if md, mdErr := op.Metadata(); mdErr == nil && md != nil {
			if p := progressOf(md); p != last {
				report.Infof(service, "", "%s", p)
				last = p
			}
		}
		if !op.Done() {
			return false, nil
		}
		result = svc
		return true, nil
	})
	switch {
	case errors.Is(err, sdk.ErrPollTimeout):
		return nil, fmt.Errorf("%s: operation %s not done after %s (operation_timeout)", what, op.Name(), b.cfg.operationTimeout)
	case err != nil:
		return nil, err
	}
	return result, nil
}

// failure words a failed operation: Cloud Run puts the failed revision's
// condition message in it.
func failure(what, op string, err error) error {
	if s, ok := status.FromError(err); ok {
		return fmt.Errorf("%s: Cloud Run operation %s failed: %s (%s)", what, short(op), s.Message(), s.Code())
	}
	return fmt.Errorf("%s: Cloud Run operation %s failed: %w", what, short(op), err)
}

// progressOf says how far a service is, from its metadata.
func progressOf(s *runpb.Service) string {
	var b strings.Builder
	if s.Reconciling {
		b.WriteString("reconciling")
	} else {
		b.WriteString("reconciled")
	}
	if tc := s.GetTerminalCondition(); tc != nil {
		fmt.Fprintf(&b, ", %s %s", tc.Type, conditionState(tc.State))
		if tc.Message != "" {
			fmt.Fprintf(&b, " (%s)", tc.Message)
		}
	}
	if s.LatestCreatedRevision != "" {
		fmt.Fprintf(&b, ", revision %s created", short(s.LatestCreatedRevision))
	}
	if s.LatestReadyRevision != "" {
		fmt.Fprintf(&b, ", %s ready", short(s.LatestReadyRevision))
	}
	return b.String()
}

func conditionState(s runpb.Condition_State) string {
	return strings.ToLower(strings.TrimPrefix(s.String(), "CONDITION_"))
}

// short is the last part of a resource name.
func short(name string) string { return name[strings.LastIndex(name, "/")+1:] }

func retriable(c codes.Code) bool {
	return c == codes.Unavailable || c == codes.ResourceExhausted || c == codes.DeadlineExceeded || c == codes.Aborted
}

// apiError names what failed and makes transient failures retriable:
// Google's API unavailable, a quota exhausted, a call timing out. Refused
// credentials and missing permissions say so.
func (b *Backend) apiError(ctx context.Context, what string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%s: %w", what, ctx.Err())
	}
	s, ok := status.FromError(err)
	if !ok {
		return fmt.Errorf("%s: %w", what, err)
	}
	switch s.Code() {
	case codes.Canceled:
		return fmt.Errorf("%s: %w", what, context.Canceled)
	case codes.Unauthenticated:
		return fmt.Errorf("%s: Google refuses the credentials (an expired or deleted key?): %s", what, s.Message())
	case codes.PermissionDenied:
		return fmt.Errorf("%s: permission denied in project %s (see the IAM roles in docs/gcp.md): %s", what, b.cfg.Project, s.Message())
	}
	if retriable(s.Code()) {
		return &sdk.UnavailableError{Message: fmt.Sprintf("%s: %s: %s", what, s.Code(), s.Message())}
	}
	return fmt.Errorf("%s: %s: %s", what, s.Code(), s.Message())
}

func isNotFound(err error) bool { return status.Code(err) == codes.NotFound }
