package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/alphaswarm/controller/core"
)

// The job queue: every mutating operation is a durable job, run at most
// one at a time per deployment, in the order it was queued, by whichever
// host claims it. A claim is a lease: a host that dies stops renewing it,
// and once it expires another host (or the same one, restarted) claims the
// job again. Operations are idempotent, so running a job again is safe.
//
// This is a small queue of our own rather than River: River's open-source
// edition cannot hold back a job while an earlier job of the same
// deployment is queued or running (per-key FIFO is a River Pro feature).

// JobState is where a job is in its life.
type JobState string

// The job states.
const (
	JobQueued    JobState = "queued"
	JobRunning   JobState = "running"
	JobSucceeded JobState = "succeeded"
	JobFailed    JobState = "failed"
	JobCancelled JobState = "cancelled"
)

// Job is one queued operation.
type Job struct {
	ID          int64
	Deployment  core.DeploymentRef
	Kind        string // apply, destroy, restart, start, stop, scale
	Payload     json.RawMessage
	State       JobState
	Attempts    int
	MaxAttempts int
	LeaseOwner  string
	Error       string
	CreatedBy   string
	Created     time.Time
	Started     time.Time
	Finished    time.Time
}

// NewJob is what Enqueue needs.
type NewJob struct {
	Deployment  core.DeploymentRef
	Kind        string
	Payload     any
	CreatedBy   string
	MaxAttempts int // default 5
}

// Enqueue adds a job and returns its id.
func (s *Store) Enqueue(ctx context.Context, j NewJob) (int64, error) {
	payload, err := json.Marshal(j.Payload)
	if err != nil {
		return 0, fmt.Errorf("enqueue %s of %s: %w", j.Kind, j.Deployment, err)
	}
	if j.MaxAttempts <= 0 {
		j.MaxAttempts = 5
	}
	now := time.Now().UnixMicro()
	q := `INSERT INTO jobs (tenant, environment, name, kind, payload, state, max_attempts, run_after, created_by, created_at)
		VALUES (?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?) RETURNING id`
	var id int64
	err = s.db.QueryRowContext(ctx, s.d.rebind(q), j.Deployment.Tenant, j.Deployment.Environment, j.Deployment.Name,
		j.Kind, payload, j.MaxAttempts, now, j.CreatedBy, now).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("enqueue %s of %s: %w", j.Kind, j.Deployment, err)
	}
	return id, nil
}

const jobColumns = `id, tenant, environment, name, kind, payload, state, attempts, max_attempts, lease_owner, error, created_by, created_at, started_at, finished_at`

func scanJob(row interface{ Scan(...any) error }) (*Job, error) {
	var j Job
	var payload []byte
	var created, started, finished int64
	if err := row.Scan(&j.ID, &j.Deployment.Tenant, &j.Deployment.Environment, &j.Deployment.Name, &j.Kind, &payload,
		&j.State, &j.Attempts, &j.MaxAttempts, &j.LeaseOwner, &j.Error, &j.CreatedBy, &created, &started, &finished); err != nil {
		return nil, err
	}
	j.Payload = payload
	j.Created = time.UnixMicro(created).UTC()
	if started > 0 {
		j.Started = time.UnixMicro(started).UTC()
	}
	if finished > 0 {
		j.Finished = time.UnixMicro(finished).UTC()
	}
	return &j, nil
}

// Job reads one job.
func (s *Store) Job(ctx context.Context, id int64) (*Job, error) {
	j, err := scanJob(s.db.QueryRowContext(ctx, s.d.rebind(`SELECT `+jobColumns+` FROM jobs WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("job %d: %w", id, ErrNotFound)
	}
	return j, err
}

// Jobs lists a deployment's jobs, oldest first.
func (s *Store) Jobs(ctx context.Context, ref core.DeploymentRef) ([]Job, error) {
	rows, err := s.db.QueryContext(ctx, s.d.rebind(`SELECT `+jobColumns+` FROM jobs WHERE tenant = ? AND environment = ? AND name = ? ORDER BY id`),
		ref.Tenant, ref.Environment, ref.Name)
	if err != nil {
		return nil, fmt.Errorf("list jobs of %s: %w", ref, err)
	}
	defer rows.Close()
	var out []Job
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, fmt.Errorf("list jobs of %s: %w", ref, err)
		}
		out = append(out, *j)
	}
	return out, rows.Err()
}

// Claim leases the next job that may run: the oldest unfinished job of its
// deployment, queued and due, or running under a lease that has expired.
// It returns nil when there is none.
func (s *Store) Claim(ctx context.Context, owner string, lease time.Duration) (*Job, error) {
	now := time.Now().UnixMicro()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("claim job: %w", err)
	}
	defer tx.Rollback()
	var id int64
	err = tx.QueryRowContext(ctx, s.d.rebind(`SELECT j.id FROM jobs j
		WHERE ((j.state = 'queued' AND j.run_after <= ?) OR (j.state = 'running' AND j.lease_until < ?))
		AND NOT EXISTS (SELECT 1 FROM jobs k WHERE k.tenant = j.tenant AND k.environment = j.environment
			AND k.name = j.name AND k.state IN ('queued', 'running') AND k.id < j.id)
		ORDER BY j.id LIMIT 1`+s.skipLocked()), now, now).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("claim job: %w", err)
	}
	// The claim's time is taken once the job is known to be free, so that a
	// job never appears to start before the job ahead of it finished.
	claimed := time.Now().UnixMicro()
	if _, err := tx.ExecContext(ctx, s.d.rebind(`UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_owner = ?, lease_until = ?,
		started_at = CASE WHEN started_at = 0 THEN CAST(? AS BIGINT) ELSE started_at END WHERE id = ?`), owner, claimed+lease.Microseconds(), claimed, id); err != nil {
		return nil, fmt.Errorf("claim job %d: %w", id, err)
	}
	j, err := scanJob(tx.QueryRowContext(ctx, s.d.rebind(`SELECT `+jobColumns+` FROM jobs WHERE id = ?`), id))
	if err != nil {
		return nil, fmt.Errorf("claim job %d: %w", id, err)
	}
	return j, tx.Commit()
}

func (s *Store) skipLocked() string {
	if s.d.name == "postgres" {
		return ` FOR UPDATE SKIP LOCKED`
	}
	return ``
}

// ReleaseLeases ends the lease of every running job so that it runs again
// at once, and returns how many there were. It is for a host starting on a
// store no other host uses (SQLite): any job it finds running was left by
// its own earlier process, which died, and need not wait for its lease to
// expire.
func (s *Store) ReleaseLeases(ctx context.Context) (int64, error) {
	res, err := s.exec(ctx, `UPDATE jobs SET lease_until = 0 WHERE state = 'running'`)
	if err != nil {
		return 0, fmt.Errorf("release leases: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// ErrLeaseLost says the job's lease expired and another host claimed it.
var ErrLeaseLost = errors.New("job lease lost")

// Renew extends the lease of a job owner still runs. It reports whether
// cancellation was requested.
func (s *Store) Renew(ctx context.Context, id int64, owner string, lease time.Duration) (cancel bool, err error) {
	res, err := s.exec(ctx, `UPDATE jobs SET lease_until = ? WHERE id = ? AND lease_owner = ? AND state = 'running'`,
		time.Now().Add(lease).UnixMicro(), id, owner)
	if err != nil {
		return false, fmt.Errorf("renew job %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, fmt.Errorf("renew job %d: %w", id, ErrLeaseLost)
	}
	var c int
	err = s.db.QueryRowContext(ctx, s.d.rebind(`SELECT cancel_requested FROM jobs WHERE id = ?`), id).Scan(&c)
	return c != 0, err
}

// Finish records a job's outcome, if owner still holds it.
func (s *Store) Finish(ctx context.Context, id int64, owner string, state JobState, errText string) error {
	res, err := s.exec(ctx, `UPDATE jobs SET state = ?, error = ?, finished_at = ?, lease_owner = '' WHERE id = ? AND lease_owner = ? AND state = 'running'`,
		string(state), errText, time.Now().UnixMicro(), id, owner)
	if err != nil {
		return fmt.Errorf("finish job %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("finish job %d: %w", id, ErrLeaseLost)
	}
	return nil
}

// Retry puts a job owner holds back in the queue, to run again after delay,
// or fails it when it has used its attempts.
func (s *Store) Retry(ctx context.Context, id int64, owner string, delay time.Duration, errText string) (JobState, error) {
	res, err := s.exec(ctx, `UPDATE jobs SET
		state = CASE WHEN attempts >= max_attempts THEN 'failed' ELSE 'queued' END,
		finished_at = CASE WHEN attempts >= max_attempts THEN CAST(? AS BIGINT) ELSE 0 END,
		run_after = ?, error = ?, lease_owner = '', lease_until = 0
		WHERE id = ? AND lease_owner = ? AND state = 'running'`,
		time.Now().UnixMicro(), time.Now().Add(delay).UnixMicro(), errText, id, owner)
	if err != nil {
		return "", fmt.Errorf("retry job %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return "", fmt.Errorf("retry job %d: %w", id, ErrLeaseLost)
	}
	j, err := s.Job(ctx, id)
	if err != nil {
		return "", err
	}
	return j.State, nil
}

// Cancel cancels a queued job at once, and asks the host running a running
// one to stop it. It reports the job's state after the request.
func (s *Store) Cancel(ctx context.Context, id int64) (JobState, error) {
	if _, err := s.exec(ctx, `UPDATE jobs SET state = 'cancelled', finished_at = ? WHERE id = ? AND state = 'queued'`, time.Now().UnixMicro(), id); err != nil {
		return "", fmt.Errorf("cancel job %d: %w", id, err)
	}
	if _, err := s.exec(ctx, `UPDATE jobs SET cancel_requested = 1 WHERE id = ? AND state = 'running'`, id); err != nil {
		return "", fmt.Errorf("cancel job %d: %w", id, err)
	}
	j, err := s.Job(ctx, id)
	if err != nil {
		return "", err
	}
	return j.State, nil
}

// AddEvent appends an event to a job's log.
func (s *Store) AddEvent(ctx context.Context, id int64, e core.Event) error {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	_, err := s.exec(ctx, `INSERT INTO job_events (job_id, seq, at, level, service, replica, message)
		VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM job_events WHERE job_id = ?), ?, ?, ?, ?, ?)`,
		id, id, e.Time.UnixMicro(), string(e.Level), e.Service, e.Replica, e.Message)
	if err != nil {
		return fmt.Errorf("add event to job %d: %w", id, err)
	}
	return nil
}

// Events lists a job's events after sequence number after, in order.
func (s *Store) Events(ctx context.Context, id int64, after int) ([]core.Event, int, error) {
	rows, err := s.db.QueryContext(ctx, s.d.rebind(`SELECT seq, at, level, service, replica, message FROM job_events WHERE job_id = ? AND seq > ? ORDER BY seq`), id, after)
	if err != nil {
		return nil, after, fmt.Errorf("events of job %d: %w", id, err)
	}
	defer rows.Close()
	var out []core.Event
	last := after
	for rows.Next() {
		var e core.Event
		var at int64
		var level string
		if err := rows.Scan(&last, &at, &level, &e.Service, &e.Replica, &e.Message); err != nil {
			return nil, after, fmt.Errorf("events of job %d: %w", id, err)
		}
		e.Time, e.Level = time.UnixMicro(at).UTC(), core.EventLevel(level)
		out = append(out, e)
	}
	return out, last, rows.Err()
}

// JobCounts counts jobs by state.
func (s *Store) JobCounts(ctx context.Context) (map[JobState]int, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT state, COUNT(*) FROM jobs GROUP BY state`)
	if err != nil {
		return nil, fmt.Errorf("count jobs: %w", err)
	}
	defer rows.Close()
	counts := map[JobState]int{}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, fmt.Errorf("count jobs: %w", err)
		}
		counts[JobState(st)] = n
	}
	return counts, rows.Err()
}

// CurrentJob returns the deployment's oldest unfinished job, or nil.
func (s *Store) CurrentJob(ctx context.Context, ref core.DeploymentRef) (*Job, error) {
	j, err := scanJob(s.db.QueryRowContext(ctx, s.d.rebind(`SELECT `+jobColumns+` FROM jobs
		WHERE tenant = ? AND environment = ? AND name = ? AND state IN ('queued', 'running') ORDER BY id LIMIT 1`),
		ref.Tenant, ref.Environment, ref.Name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return j, err
}
