package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/alphaswarm/controller/core"
)

var (
	d1 = core.DeploymentRef{Tenant: "acme", Environment: "prod", Name: "one"}
	d2 = core.DeploymentRef{Tenant: "acme", Environment: "prod", Name: "two"}
)

func enqueue(t *testing.T, s *Store, ref core.DeploymentRef, kind string) int64 {
	t.Helper()
	id, err := s.Enqueue(context.Background(), NewJob{Deployment: ref, Kind: kind, Payload: map[string]string{"k": kind}, CreatedBy: "test", MaxAttempts: 2})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func claim(t *testing.T, s *Store, owner string, lease time.Duration) int64 {
	t.Helper()
	j, err := s.Claim(context.Background(), owner, lease)
	if err != nil {
		t.Fatal(err)
	}
	if j == nil {
		return 0
	}
	return j.ID
}

// TestJobsRunInOrderOnePerDeployment: a deployment's jobs are claimed in
// the order they were queued, never two at once; other deployments' jobs
// are not held up.
func TestJobsRunInOrderOnePerDeployment(t *testing.T) {
	backends(t, func(t *testing.T, cfg func(...string) Config) {
		s := mustOpen(t, cfg())
		ctx := context.Background()
		a1, a2, b1 := enqueue(t, s, d1, "apply"), enqueue(t, s, d1, "restart"), enqueue(t, s, d2, "apply")
		if got := claim(t, s, "h1", time.Minute); got != a1 {
			t.Fatalf("first claim %d, want %d", got, a1)
		}
		if got := claim(t, s, "h2", time.Minute); got != b1 {
			t.Fatalf("second claim %d, want %d (the other deployment), not %d", got, b1, a2)
		}
		if got := claim(t, s, "h2", time.Minute); got != 0 {
			t.Fatalf("claimed %d while the deployment's earlier job runs", got)
		}
		if err := s.Finish(ctx, a1, "h1", JobSucceeded, ""); err != nil {
			t.Fatal(err)
		}
		if got := claim(t, s, "h2", time.Minute); got != a2 {
			t.Fatalf("after the first finished: claimed %d, want %d", got, a2)
		}
		j, _ := s.Job(ctx, a1)
		if j.State != JobSucceeded || j.Attempts != 1 || j.Finished.IsZero() {
			t.Errorf("finished job %+v", j)
		}
	})
}

// TestExpiredLeaseIsClaimedAgain: a host that stops renewing loses its job
// to the next claimer, and can no longer finish it.
func TestExpiredLeaseIsClaimedAgain(t *testing.T) {
	backends(t, func(t *testing.T, cfg func(...string) Config) {
		s := mustOpen(t, cfg())
		ctx := context.Background()
		id := enqueue(t, s, d1, "apply")
		claim(t, s, "dead-host", time.Millisecond)
		time.Sleep(20 * time.Millisecond)
		if got := claim(t, s, "live-host", time.Minute); got != id {
			t.Fatalf("the expired job was not claimed again: got %d", got)
		}
		if err := s.Finish(ctx, id, "dead-host", JobSucceeded, ""); !errors.Is(err, ErrLeaseLost) {
			t.Errorf("the dead host finished a job it lost: %v", err)
		}
		if _, err := s.Renew(ctx, id, "dead-host", time.Minute); !errors.Is(err, ErrLeaseLost) {
			t.Errorf("the dead host renewed a job it lost: %v", err)
		}
		j, _ := s.Job(ctx, id)
		if j.Attempts != 2 || j.LeaseOwner != "live-host" {
			t.Errorf("after the second claim: %+v", j)
		}
	})
}

func TestRetryBacksOffThenFails(t *testing.T) {
	backends(t, func(t *testing.T, cfg func(...string) Config) {
		s := mustOpen(t, cfg())
		ctx := context.Background()
		id := enqueue(t, s, d1, "apply") // MaxAttempts 2
		claim(t, s, "h", time.Minute)
		if st, err := s.Retry(ctx, id, "h", time.Hour, "plugin unavailable"); err != nil || st != JobQueued {
			t.Fatalf("first retry: %s, %v", st, err)
		}
		if got := claim(t, s, "h", time.Minute); got != 0 {
			t.Fatalf("a job backing off was claimed")
		}
		if _, err := s.exec(ctx, `UPDATE jobs SET run_after = 0 WHERE id = ?`, id); err != nil {
			t.Fatal(err)
		}
		claim(t, s, "h", time.Minute)
		if st, err := s.Retry(ctx, id, "h", time.Hour, "plugin unavailable"); err != nil || st != JobFailed {
			t.Fatalf("retry after the last attempt: %s, %v", st, err)
		}
		j, _ := s.Job(ctx, id)
		if j.Error != "plugin unavailable" || j.Finished.IsZero() {
			t.Errorf("failed job %+v", j)
		}
	})
}

func TestCancel(t *testing.T) {
	backends(t, func(t *testing.T, cfg func(...string) Config) {
		s := mustOpen(t, cfg())
		ctx := context.Background()
		running, queued := enqueue(t, s, d1, "apply"), enqueue(t, s, d1, "restart")
		claim(t, s, "h", time.Minute)
		if st, _ := s.Cancel(ctx, queued); st != JobCancelled {
			t.Errorf("cancel a queued job: %s", st)
		}
		if st, _ := s.Cancel(ctx, running); st != JobRunning {
			t.Errorf("cancel a running job: %s, want still running until its host stops it", st)
		}
		if cancel, err := s.Renew(ctx, running, "h", time.Minute); err != nil || !cancel {
			t.Errorf("renew after a cancel request: %v, %v", cancel, err)
		}
	})
}

func TestJobEvents(t *testing.T) {
	backends(t, func(t *testing.T, cfg func(...string) Config) {
		s := mustOpen(t, cfg())
		ctx := context.Background()
		id := enqueue(t, s, d1, "apply")
		for _, m := range []string{"created network", "started web-1", "started web-2"} {
			if err := s.AddEvent(ctx, id, core.Event{Level: core.EventInfo, Service: "web", Message: m}); err != nil {
				t.Fatal(err)
			}
		}
		first, last, err := s.Events(ctx, id, 0)
		if err != nil || len(first) != 3 || first[2].Message != "started web-2" {
			t.Fatalf("events %+v, %v", first, err)
		}
		more, _, _ := s.Events(ctx, id, last)
		if len(more) != 0 {
			t.Errorf("events after the last: %+v", more)
		}
	})
}
