package cli

import (
	"fmt"
	"strconv"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/host/internal/api/wire"
	"github.com/alphaswarm/controller/host/internal/apiclient"
)

// runOperation is restart, start and stop: optionally one service, then
// wait for the job unless -detach.
func runOperation(op wire.Op) func(env, []string) int {
	return func(e env, args []string) int {
		fs := newFlags(e, string(op), string(op)+" [flags] TENANT/NAME")
		var rf remoteFlags
		rf.register(fs.FlagSet)
		service := fs.String("service", "", "only this service")
		detach := fs.Bool("detach", false, "return once the job is queued")
		pos, code, ok := fs.parse(args, "TENANT/NAME")
		if !ok {
			return code
		}
		ref, err := apiclient.ParseRef(pos[0], rf.env)
		if err != nil {
			return fs.usageError("%v", err)
		}
		return e.operate(ref, op, wire.OperationRequest{Service: *service}, rf.asJSON, *detach)
	}
}

func runScale(e env, args []string) int {
	fs := newFlags(e, string(wire.OpScale), "scale [flags] TENANT/NAME SERVICE REPLICAS")
	var rf remoteFlags
	rf.register(fs.FlagSet)
	detach := fs.Bool("detach", false, "return once the job is queued")
	pos, code, ok := fs.parse(args, "TENANT/NAME", "SERVICE", "REPLICAS")
	if !ok {
		return code
	}
	ref, err := apiclient.ParseRef(pos[0], rf.env)
	if err != nil {
		return fs.usageError("%v", err)
	}
	replicas, err := strconv.Atoi(pos[2])
	if err != nil {
		return fs.usageError("REPLICAS %q is not a number", pos[2])
	}
	return e.operate(ref, wire.OpScale, wire.OperationRequest{Service: pos[1], Replicas: &replicas}, rf.asJSON, *detach)
}

func runDestroy(e env, args []string) int {
	fs := newFlags(e, string(wire.OpDestroy), "destroy [flags] TENANT/NAME")
	var rf remoteFlags
	rf.register(fs.FlagSet)
	autoApprove := fs.Bool("auto-approve", false, "destroy without asking for confirmation")
	removeData := fs.Bool("remove-data", false, "also remove the deployment's named volumes")
	detach := fs.Bool("detach", false, "return once the job is queued")
	pos, code, ok := fs.parse(args, "TENANT/NAME")
	if !ok {
		return code
	}
	ref, err := apiclient.ParseRef(pos[0], rf.env)
	if err != nil {
		return fs.usageError("%v", err)
	}
	if !*autoApprove {
		what := "everything it runs"
		if *removeData {
			what += ", and its volumes with their data"
		}
		ok, err := e.confirm(fmt.Sprintf("Destroy deployment %s? This removes %s.", ref, what))
		if err != nil {
			return e.errorf("%v", err)
		}
		if !ok {
			fmt.Fprintln(e.stdout, "\nDestroy cancelled.")
			return exitError
		}
	}
	return e.operate(ref, wire.OpDestroy, wire.OperationRequest{RemoveData: *removeData}, rf.asJSON, *detach)
}

// operate queues op and follows its job.
func (e env) operate(ref apiclient.Ref, op wire.Op, body wire.OperationRequest, asJSON, detach bool) int {
	c, err := connect()
	if err != nil {
		return e.errorf("%v", err)
	}
	ctx, cancel := interrupted()
	defer cancel()
	id, err := c.Operate(ctx, ref, op, body)
	if err != nil {
		return e.remoteError(err)
	}
	d := core.DeploymentRef{Tenant: ref.Tenant, Name: ref.Name, Environment: ref.Environment}
	if j, err := c.Job(ctx, id); err == nil {
		d = j.Deployment
	}
	queued := []wire.QueuedJob{{ID: id, Deployment: d}}
	if detach {
		return e.printQueued(queued, asJSON)
	}
	return e.followJobs(ctx, c, queued, asJSON)
}

func runJobs(e env, args []string) int {
	fs := newFlags(e, "jobs", "jobs [flags] JOB-ID")
	asJSON := fs.Bool("json", false, "print as JSON")
	follow := fs.Bool("f", false, "follow the job's events until it ends")
	pos, code, ok := fs.parse(args, "JOB-ID")
	if !ok {
		return code
	}
	id, err := strconv.ParseInt(pos[0], 10, 64)
	if err != nil || id <= 0 {
		return fs.usageError("JOB-ID %q is not a job id (a positive number)", pos[0])
	}
	c, err := connect()
	if err != nil {
		return e.errorf("%v", err)
	}
	ctx, cancel := interrupted()
	defer cancel()
	j, err := c.Job(ctx, id)
	if err != nil {
		return e.remoteError(err)
	}
	if *follow {
		return e.followJobs(ctx, c, []wire.QueuedJob{{ID: id, Deployment: j.Deployment}}, *asJSON)
	}
	if *asJSON {
		writeJSON(e, j)
		return exitOK
	}
	fmt.Fprintf(e.stdout, "job %d: %s of %s, %s after %d attempt(s), queued by %s at %s\n", j.ID, j.Kind, j.Deployment, j.State, j.Attempts, j.CreatedBy, j.Created.Format("2006-01-02 15:04:05Z07:00"))
	if j.Error != "" {
		fmt.Fprintf(e.stdout, "error: %s\n", j.Error)
	}
	return exitOK
}
