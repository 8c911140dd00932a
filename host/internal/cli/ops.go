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
		rf.register(fs)
		service := fs.String("service", "", "only this service")
		detach := fs.Bool("detach", false, "return once the job is queued")
		if err := fs.Parse(args); err != nil {
			return parseError(err)
		}
		ref, _, err := refArgs(fs, rf.env, 0)
		if err != nil {
			fmt.Fprintf(e.stderr, "Error: %v\n", err)
			fs.Usage()
			return exitUsage
		}
		return e.operate(ref, op, wire.OperationRequest{Service: *service}, rf.asJSON, *detach)
	}
}

func runScale(e env, args []string) int {
	fs := newFlags(e, "scale", "scale [flags] TENANT/NAME SERVICE REPLICAS")
	var rf remoteFlags
	rf.register(fs)
	detach := fs.Bool("detach", false, "return once the job is queued")
	if err := fs.Parse(args); err != nil {
		return parseError(err)
	}
	ref, rest, err := refArgs(fs, rf.env, 2)
	var replicas int
	if err == nil {
		replicas, err = strconv.Atoi(rest[1])
		if err != nil {
			err = fmt.Errorf("REPLICAS %q is not a number", rest[1])
		}
	}
	if err != nil {
		return e.usageError(fs, err)
	}
	return e.operate(ref, wire.OpScale, wire.OperationRequest{Service: rest[0], Replicas: &replicas}, rf.asJSON, *detach)
}

func runDestroy(e env, args []string) int {
	fs := newFlags(e, "destroy", "destroy [flags] TENANT/NAME")
	var rf remoteFlags
	rf.register(fs)
	autoApprove := fs.Bool("auto-approve", false, "destroy without asking for confirmation")
	removeData := fs.Bool("remove-data", false, "also remove the deployment's named volumes")
	detach := fs.Bool("detach", false, "return once the job is queued")
	if err := fs.Parse(args); err != nil {
		return parseError(err)
	}
	ref, _, err := refArgs(fs, rf.env, 0)
	if err != nil {
		return e.usageError(fs, err)
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
	if err := fs.Parse(args); err != nil {
		return parseError(err)
	}
	var id int64
	var err error
	if fs.NArg() == 1 {
		id, err = strconv.ParseInt(fs.Arg(0), 10, 64)
	}
	if fs.NArg() != 1 || err != nil {
		fmt.Fprintln(e.stderr, "Error: expected one job id")
		fs.Usage()
		return exitUsage
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
