package apiclient

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/host/internal/api/wire"
)

// Plan asks what applying the topology would change.
func (c *Client) Plan(ctx context.Context, req wire.TopologyRequest) (*wire.PlanResult, error) {
	var out wire.PlanResult
	return &out, c.call(ctx, "POST", "/v1/"+string(wire.OpPlan), req, &out)
}

// Apply queues the topology's deployments; with PlanHash set, only if the
// plan is still the reviewed one.
func (c *Client) Apply(ctx context.Context, req wire.TopologyRequest) (*wire.ApplyResult, error) {
	var out wire.ApplyResult
	return &out, c.call(ctx, "POST", "/v1/"+string(wire.OpApply), req, &out)
}

// Deployments lists the deployments the token may see.
func (c *Client) Deployments(ctx context.Context) ([]wire.Deployment, error) {
	var out wire.DeploymentList
	return out.Deployments, c.call(ctx, "GET", "/v1/deployments", nil, &out)
}

// Deployment reads one deployment with its revisions and current job.
func (c *Client) Deployment(ctx context.Context, ref Ref) (*wire.DeploymentDetail, error) {
	var out wire.DeploymentDetail
	return &out, c.call(ctx, "GET", ref.path("", nil), nil, &out)
}

// Operate queues one of wire.RuntimeOps and returns the job id.
func (c *Client) Operate(ctx context.Context, ref Ref, op wire.Op, body wire.OperationRequest) (int64, error) {
	var out wire.OperationAccepted
	return out.Job, c.call(ctx, "POST", ref.path("/"+string(op), nil), body, &out)
}

// Job reads a job.
func (c *Client) Job(ctx context.Context, id int64) (*wire.Job, error) {
	var out wire.Job
	return &out, c.call(ctx, "GET", fmt.Sprintf("/v1/jobs/%d", id), nil, &out)
}

// FollowJob streams a job's events to progress until it ends, and returns
// the job as it ended.
func (c *Client) FollowJob(ctx context.Context, id int64, progress func(core.Event)) (*wire.Job, error) {
	var end *wire.Job
	err := c.stream(ctx, fmt.Sprintf("/v1/jobs/%d/events", id), func(ev sseEvent) error {
		switch ev.name {
		case wire.EventProgress:
			var e core.Event
			if err := ev.decode(&e); err != nil {
				return err
			}
			progress(e)
		case wire.EventEnd:
			end = &wire.Job{}
			return ev.decode(end)
		case wire.EventError:
			var e wire.StreamError
			if err := ev.decode(&e); err != nil {
				return err
			}
			return fmt.Errorf("job %d events: %s", id, e.Error)
		}
		return nil
	})
	if err == nil && end == nil {
		err = fmt.Errorf("job %d: the event stream ended before the job", id)
	}
	return end, err
}

// LogsOptions select log lines.
type LogsOptions struct {
	Follow bool
	Tail   int // < 0: all
	Since  time.Duration
}

// Logs streams a service's log lines to each until the stream ends (or,
// following, until ctx ends).
func (c *Client) Logs(ctx context.Context, ref Ref, service string, opts LogsOptions, each func(wire.LogLine)) error {
	q := url.Values{}
	if opts.Follow {
		q.Set("follow", "true")
	}
	if opts.Tail >= 0 {
		q.Set("tail", strconv.Itoa(opts.Tail))
	}
	if opts.Since > 0 {
		q.Set("since", opts.Since.String())
	}
	return c.stream(ctx, ref.path("/services/"+url.PathEscape(service)+"/"+string(wire.OpLogs), q), func(ev sseEvent) error {
		var l wire.LogLine
		if err := ev.decode(&l); err != nil {
			return err
		}
		each(l)
		return nil
	})
}

// Rollback queues an apply of revision's spec and returns the job id.
func (c *Client) Rollback(ctx context.Context, ref Ref, revision int) (int64, error) {
	var out wire.RollbackAccepted
	return out.Job, c.call(ctx, "POST", ref.path("/"+string(wire.OpRollback), nil), wire.RollbackRequest{Revision: &revision}, &out)
}
