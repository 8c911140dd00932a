package cli

import (
	"errors"
	"fmt"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/host/internal/api/wire"
	"github.com/alphaswarm/controller/host/internal/apiclient"
)

func runRollback(e env, args []string) int {
	fs := newFlags(e, string(wire.OpRollback), "rollback [flags] TENANT/NAME")
	var rf remoteFlags
	rf.register(fs.FlagSet)
	revision := fs.Int("revision", 0, "the revision to apply again (default: the newest succeeded one before the current)")
	autoApprove := fs.Bool("auto-approve", false, "roll back without asking for confirmation")
	detach := fs.Bool("detach", false, "return once the job is queued")
	pos, code, ok := fs.parse(args, "TENANT/NAME")
	if !ok {
		return code
	}
	ref, err := apiclient.ParseRef(pos[0], rf.env)
	if err != nil {
		return fs.usageError("%v", err)
	}
	c, err := connect()
	if err != nil {
		return e.errorf("%v", err)
	}
	ctx, cancel := interrupted()
	defer cancel()
	d, err := c.Deployment(ctx, ref)
	if err != nil {
		return e.remoteError(err)
	}
	target, err := rollbackTarget(d, *revision)
	if err != nil {
		return e.errorf("%v", err)
	}
	if target.DestroyedAt != nil {
		fmt.Fprintf(e.stdout, "Revision %d belongs to incarnation %d of %s, destroyed at %s by %s; its spec is applied as a new revision of incarnation %d.\n",
			target.Number, target.Incarnation, ref, target.DestroyedAt.Local().Format(timeLayout), target.DestroyedBy, d.Incarnation)
	}
	if !*autoApprove {
		ok, err := e.confirm(fmt.Sprintf("Roll back deployment %s from revision %d to revision %d (applied by %s at %s)?",
			ref, d.Revision, target.Number, target.AppliedBy, target.AppliedAt.Local().Format(timeLayout)))
		if err != nil {
			return e.errorf("%v", err)
		}
		if !ok {
			fmt.Fprintln(e.stdout, "\nRollback cancelled.")
			return exitError
		}
	}
	ref.Environment = d.Environment
	id, err := c.Rollback(ctx, ref, target.Number)
	if err != nil {
		return e.remoteError(err)
	}
	queued := []wire.QueuedJob{{ID: id, Deployment: core.DeploymentRef{Tenant: d.Tenant, Environment: d.Environment, Name: d.Name}}}
	if *detach {
		return e.printQueued(queued, rf.asJSON)
	}
	return e.followJobs(ctx, c, queued, rf.asJSON)
}

// rollbackTarget is the named revision, or, as the host picks it, the
// newest succeeded one of the current incarnation before the current
// revision. Revisions come newest first.
func rollbackTarget(d *wire.DeploymentDetail, want int) (*wire.Revision, error) {
	for i := range d.Revisions {
		r := &d.Revisions[i]
		if (want != 0 && r.Number == want) || (want == 0 && r.Number < d.Revision && r.Incarnation == d.Incarnation && r.Outcome == "succeeded") {
			return r, nil
		}
	}
	if want != 0 {
		return nil, fmt.Errorf("deployment %s/%s has no revision %d", d.Tenant, d.Name, want)
	}
	for _, r := range d.Revisions {
		if r.DestroyedAt != nil {
			return nil, fmt.Errorf("no succeeded revision before the current one to roll back to in this incarnation; revisions up to %d belong to an incarnation destroyed at %s: name one with -revision to roll back to it",
				r.Number, r.DestroyedAt.Local().Format(timeLayout))
		}
	}
	return nil, errors.New("no succeeded revision before the current one to roll back to")
}
