// Package jobs runs the durable jobs of the store: workers claim jobs,
// renew their leases while they run, and record the outcome, retrying what
// failed for a reason that may pass (a plugin crash, an unreachable
// backend) with backoff. The Executor turns each kind of job into calls to
// the deployment's backend plugin and records the result in the store.
package jobs

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	hclog "github.com/hashicorp/go-hclog"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/host/internal/store"
)

// Runner runs one job, reporting progress.
type Runner interface {
	Run(ctx context.Context, job *store.Job, report func(core.Event)) error
}

// Worker claims and runs jobs, one at a time.
type Worker struct {
	Store  *store.Store
	Runner Runner
	// Owner names this worker in leases: unique per host and worker.
	Owner string
	// Lease is how long a claim lasts without renewal (default 30s); a job
	// whose host died is claimed again this long after its last renewal.
	Lease time.Duration
	// Poll is how long an idle worker waits between claims (default 200ms).
	Poll   time.Duration
	Logger hclog.Logger

	beat       atomic.Int64 // unix nanos of the last sign of progress; see Check
	stallAfter atomic.Int64 // how long without progress is stuck: two leases
}

func (w *Worker) defaults() {
	if w.Lease <= 0 {
		w.Lease = 30 * time.Second
	}
	if w.Poll <= 0 {
		w.Poll = 200 * time.Millisecond
	}
	if w.Logger == nil {
		w.Logger = hclog.NewNullLogger()
	}
}

// progressed notes that the worker's loop or its lease renewal moved on.
func (w *Worker) progressed() {
	w.stallAfter.Store(int64(2 * w.Lease))
	w.beat.Store(time.Now().UnixNano())
}

// Check says whether the worker is stuck: a worker that runs claims or
// polls every Poll, and renews the lease of the job it runs every third of
// Lease, whatever the job does; one that did neither for two leases is
// blocked (on the database, or in the host's own code). A worker that has
// not started yet is not stuck.
func (w *Worker) Check(now time.Time) error {
	last := w.beat.Load()
	if last == 0 {
		return nil
	}
	if idle := now.Sub(time.Unix(0, last)); idle > time.Duration(w.stallAfter.Load()) {
		return fmt.Errorf("job worker %s has made no progress for %s: a claim or a lease renewal is blocked", w.Owner, idle.Round(time.Second))
	}
	return nil
}

// Backoff is the delay before attempt n+1 of a job that failed n times:
// 1s, 2s, 4s ... up to a minute.
func Backoff(attempts int) time.Duration {
	return min(time.Second<<max(attempts-1, 0), time.Minute)
}

// Run claims and runs jobs until claims stops: then it finishes the job
// it is running, unless work is cancelled too.
func (w *Worker) Run(claims, work context.Context) {
	w.defaults()
	for claims.Err() == nil {
		w.progressed()
		ran, err := w.RunOne(claims, work)
		if err != nil {
			w.Logger.Warn("job queue unavailable", "error", err)
		}
		if !ran {
			select {
			case <-claims.Done():
			case <-time.After(w.Poll):
			}
		}
	}
}

// RunOne claims one job and runs it; it reports whether there was one.
func (w *Worker) RunOne(claims, work context.Context) (bool, error) {
	w.defaults()
	job, err := w.Store.Claim(claims, w.Owner, w.Lease)
	w.progressed()
	if err != nil || job == nil {
		return false, err
	}
	w.Logger.Info("running job", "job", job.ID, "kind", job.Kind, "deployment", job.Deployment.String(), "attempt", job.Attempts)
	w.run(work, job)
	return true, nil
}

// run runs a claimed job with a heartbeat that renews its lease and
// watches for cancellation, then records the outcome.
func (w *Worker) run(ctx context.Context, job *store.Job) {
	jctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var lost, cancelled bool
	heartbeat := make(chan struct{})
	go func() {
		defer close(heartbeat)
		t := time.NewTicker(w.Lease / 3)
		defer t.Stop()
		for {
			select {
			case <-jctx.Done():
				return
			case <-t.C:
			}
			stop, err := w.Store.Renew(jctx, job.ID, w.Owner, w.Lease)
			w.progressed()
			switch {
			case errors.Is(err, store.ErrLeaseLost):
				lost = true
				cancel()
				return
			case err == nil && stop:
				cancelled = true
				cancel()
				return
			}
			// Another error (the database away): keep running; the
			// outcome is recorded, or the lease expires, when it is back.
		}
	}()
	report := func(e core.Event) {
		if err := w.Store.AddEvent(ctx, job.ID, e); err != nil {
			w.Logger.Warn("record job event", "job", job.ID, "error", err)
		}
	}
	report(core.Event{Level: core.EventInfo, Message: fmt.Sprintf("claimed by %s (attempt %d)", w.Owner, job.Attempts)})
	err := w.Runner.Run(jctx, job, report)
	cancel()
	<-heartbeat
	w.finish(job, err, lost, cancelled)
}

func (w *Worker) finish(job *store.Job, runErr error, lost, cancelled bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var err error
	switch {
	case lost:
		w.Logger.Warn("job lease lost to another host; leaving the job to it", "job", job.ID)
		return
	case runErr == nil:
		err = w.Store.Finish(ctx, job.ID, w.Owner, store.JobSucceeded, "")
	case cancelled:
		err = w.Store.Finish(ctx, job.ID, w.Owner, store.JobCancelled, "cancelled on request")
	case Retriable(runErr):
		var st store.JobState
		st, err = w.Store.Retry(ctx, job.ID, w.Owner, Backoff(job.Attempts), runErr.Error())
		w.Logger.Warn("job failed; retrying", "job", job.ID, "error", runErr, "state", st)
	default:
		err = w.Store.Finish(ctx, job.ID, w.Owner, store.JobFailed, runErr.Error())
	}
	if err != nil {
		// The outcome is not recorded; the lease expires and the job runs
		// again, which is safe because operations are idempotent.
		w.Logger.Warn("record job outcome", "job", job.ID, "error", err)
	}
}
