package cli

import (
	"context"
	"fmt"
	"sync"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/host/internal/api/wire"
	"github.com/alphaswarm/controller/host/internal/apiclient"
)

// remotePlan plans dir on the controller.
func (e env) remotePlan(dir string, tf topologyFlags) int {
	ctx, cancel := interrupted()
	defer cancel()
	rp, code := e.planOnController(ctx, dir, tf)
	if rp != nil && tf.asJSON {
		writeJSON(e, rp.plan)
	}
	return code
}

// remotePlanned is a topology the controller planned.
type remotePlanned struct {
	c    *apiclient.Client
	req  wire.TopologyRequest
	plan *wire.PlanResult
}

// planOnController sends dir's topology to the controller for a plan and,
// unless asJSON, prints it; on failure it returns nil and the exit code.
func (e env) planOnController(ctx context.Context, dir string, tf topologyFlags) (*remotePlanned, int) {
	c, err := connect()
	if err != nil {
		return nil, e.errorf("%v", err)
	}
	req, err := topologyRequest(dir, tf.vars, tf.varFiles)
	if err != nil {
		return nil, e.errorf("%v", err)
	}
	plan, err := c.Plan(ctx, req)
	if err != nil {
		return nil, e.remoteError(err)
	}
	if !tf.asJSON {
		e.printRemoteDiagnostics(plan.Diagnostics)
		printPlans(e, plan.Plans)
	}
	return &remotePlanned{c: c, req: req, plan: plan}, exitOK
}

func (e env) printRemoteDiagnostics(diags []wire.Diagnostic) {
	for _, d := range diags {
		fmt.Fprintln(e.stderr, d.String())
	}
}

func runApply(e env, args []string) int {
	fs := newFlags(e, string(wire.OpApply), "apply [flags] [DIR]")
	var tf topologyFlags
	fs.Var(&tf.vars, "var", "set a variable, as name=value (repeatable)")
	fs.Var(&tf.varFiles, "var-file", "read variables from a file of name = value lines (repeatable)")
	fs.BoolVar(&tf.asJSON, "json", false, "print as JSON, one object per line; implies -auto-approve is required")
	autoApprove := fs.Bool("auto-approve", false, "apply without asking for confirmation")
	detach := fs.Bool("detach", false, "return once the jobs are queued, without waiting for them")
	pos, code, ok := fs.parse(args, "[DIR]")
	if !ok {
		return code
	}
	dir := dirArg(pos)
	ctx, cancel := interrupted()
	defer cancel()
	rp, code := e.planOnController(ctx, dir, tf)
	if rp == nil {
		return code
	}
	c, req, plan := rp.c, rp.req, rp.plan
	if !changes(plan.Plans) {
		if tf.asJSON {
			writeJSON(e, map[string]any{"plan": plan, "jobs": []any{}})
		}
		return exitOK
	}
	if !*autoApprove {
		ok, err := e.confirm("\nDo you want to apply these changes?")
		if err != nil {
			return e.errorf("%v", err)
		}
		if !ok {
			fmt.Fprintln(e.stdout, "\nApply cancelled.")
			return exitError
		}
	}
	req.PlanHash = plan.Hash
	applied, err := c.Apply(ctx, req)
	if err != nil {
		return e.remoteError(err)
	}
	if *detach {
		return e.printQueued(applied.Jobs, tf.asJSON)
	}
	return e.followJobs(ctx, c, applied.Jobs, tf.asJSON)
}

func changes(plans []wire.DeploymentPlan) bool {
	for _, p := range plans {
		if c, u, d := p.Changes(); c+u+d > 0 || p.Skipped != "" || p.Record != wire.RecordNone {
			return true
		}
	}
	return false
}

func (e env) printQueued(jobs []wire.QueuedJob, asJSON bool) int {
	if asJSON {
		writeJSON(e, map[string]any{"jobs": jobs})
		return exitOK
	}
	for _, j := range jobs {
		fmt.Fprintf(e.stdout, "%s: queued as job %d\n", j.Deployment, j.ID)
	}
	return exitOK
}

// followJobs prints each job's progress as it happens, one line per event
// prefixed with its deployment and service, and fails if any job failed.
func (e env) followJobs(ctx context.Context, c *apiclient.Client, jobs []wire.QueuedJob, asJSON bool) int {
	var mu sync.Mutex
	var wg sync.WaitGroup
	failed := false
	for _, j := range jobs {
		wg.Go(func() {
			end, err := c.FollowJob(ctx, j.ID, func(ev core.Event) {
				mu.Lock()
				defer mu.Unlock()
				e.printEvent(j.Deployment, ev, asJSON)
			})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				failed = true
				fmt.Fprintf(e.stderr, "Error: %s: %v\n", j.Deployment, err)
				return
			}
			failed = failed || !end.Succeeded()
			e.printEnd(end, asJSON)
		})
	}
	wg.Wait()
	if failed {
		return exitError
	}
	return exitOK
}

func (e env) printEvent(ref core.DeploymentRef, ev core.Event, asJSON bool) {
	if asJSON {
		writeJSONLine(e, map[string]any{"deployment": ref, "event": ev})
		return
	}
	who := ref.String()
	if ev.Service != "" {
		who += ": " + ev.Service
	}
	level := ""
	if ev.Level != core.EventInfo && ev.Level != "" {
		level = string(ev.Level) + ": "
	}
	fmt.Fprintf(e.stdout, "%s: %s%s\n", who, level, ev.Message)
}

func (e env) printEnd(j *wire.Job, asJSON bool) {
	if asJSON {
		writeJSONLine(e, map[string]any{"job": j})
		return
	}
	if j.Succeeded() {
		fmt.Fprintf(e.stdout, "%s: %s succeeded (job %d)\n", j.Deployment, j.Kind, j.ID)
		return
	}
	fmt.Fprintf(e.stderr, "Error: %s: %s %s after %d attempt(s): %s (job %d)\n", j.Deployment, j.Kind, j.State, j.Attempts, j.Error, j.ID)
}
