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

// Revision is one apply of a deployment, immutable once written but for
// the mark its incarnation's destroy leaves on it.
type Revision struct {
	Number int
	// Incarnation counts the lives of the deployment's name: 1 until it is
	// destroyed, 2 once applied again after that, and so on. Revision
	// numbers go on counting across incarnations.
	Incarnation int
	Spec        core.DeploymentSpec
	Images      map[string]string // service -> image reference as resolved at apply
	SourceHash  string            // hash of the topology files
	AppliedBy   string
	AppliedAt   time.Time
	Outcome     string // "succeeded" or "failed"
	Error       string
	// DestroyedAt and DestroyedBy say when and by whom the revision's
	// incarnation was destroyed; zero while it lives.
	DestroyedAt time.Time
	DestroyedBy string
}

// Destroyed reports whether the revision's incarnation was destroyed.
func (r *Revision) Destroyed() bool { return !r.DestroyedAt.IsZero() }

// Apply is what an apply leaves behind: the deployment's new spec and
// state, and a new revision recording it.
type Apply struct {
	Ref     core.DeploymentRef
	Backend string
	// BackendConfig is the backend block's decoded configuration.
	BackendConfig []byte
	Spec          core.DeploymentSpec
	State         []byte
	Images        map[string]string
	SourceHash    string
	AppliedBy     string
	Failed        error // the apply's error, when it failed
	// JobID is the job recording the apply, if any: a job that runs again
	// after its record was written updates that revision's deployment
	// instead of recording a second revision.
	JobID int64
}

// RecordApply writes the deployment and its revision in one transaction
// and returns the revision number. It works whatever the store holds of
// the name: a deployment it has never seen, or whose earlier incarnation
// was destroyed, gets a new incarnation whose revision numbers follow the
// destroyed one's.
func (s *Store) RecordApply(ctx context.Context, a Apply) (int, error) {
	spec, err := json.Marshal(a.Spec)
	if err != nil {
		return 0, fmt.Errorf("record apply of %s: %w", a.Ref, err)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("record apply of %s: %w", a.Ref, err)
	}
	defer tx.Rollback()
	rev, err := s.recordApply(ctx, tx, a, spec)
	if err != nil {
		return 0, fmt.Errorf("record apply of %s: %w", a.Ref, err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("record apply of %s: %w", a.Ref, err)
	}
	return rev, nil
}

func (s *Store) recordApply(ctx context.Context, tx *sql.Tx, a Apply, spec []byte) (int, error) {
	incarnation, err := s.incarnation(ctx, tx, a.Ref)
	if err != nil {
		return 0, err
	}
	rev, recorded, err := s.nextRevision(ctx, tx, a.Ref, a.JobID)
	if err != nil {
		return 0, err
	}
	now := time.Now().UnixMicro()
	if _, err := tx.ExecContext(ctx, s.d.rebind(`INSERT INTO deployments (`+deploymentColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, NULL, ?, '', ?, ?, ?, ?)
		ON CONFLICT (tenant, environment, name) DO UPDATE SET
			backend = excluded.backend, spec = excluded.spec, state = excluded.state, backend_config = excluded.backend_config,
			revision = excluded.revision, destroy_error = '', updated_at = excluded.updated_at`),
		a.Ref.Tenant, a.Ref.Environment, a.Ref.Name, a.Backend, spec, s.sealer.seal(a.State, aad(a.Ref)), rev, now, now,
		s.sealer.seal(a.BackendConfig, configAAD(a.Ref)), incarnation); err != nil {
		return 0, err
	}
	if recorded {
		return rev, nil
	}
	outcome, errText := "succeeded", ""
	if a.Failed != nil {
		outcome, errText = "failed", a.Failed.Error()
	}
	images, _ := json.Marshal(a.Images)
	_, err = tx.ExecContext(ctx, s.d.rebind(`INSERT INTO revisions (tenant, environment, name, number, incarnation, spec, images, source_hash, applied_by, applied_at, outcome, error, job_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		a.Ref.Tenant, a.Ref.Environment, a.Ref.Name, rev, incarnation, spec, images, a.SourceHash, a.AppliedBy, now, outcome, errText, a.JobID)
	return rev, err
}

// incarnation is the deployment's current incarnation, locking its row,
// or the next one when the store holds no deployment of that name.
func (s *Store) incarnation(ctx context.Context, tx *sql.Tx, ref core.DeploymentRef) (int, error) {
	var n int
	err := tx.QueryRowContext(ctx, s.d.rebind(`SELECT incarnation FROM deployments WHERE tenant = ? AND environment = ? AND name = ?`+s.forUpdate()),
		ref.Tenant, ref.Environment, ref.Name).Scan(&n)
	if !errors.Is(err, sql.ErrNoRows) {
		return n, err
	}
	err = tx.QueryRowContext(ctx, s.d.rebind(`SELECT COALESCE(MAX(incarnation), 0) FROM revisions WHERE tenant = ? AND environment = ? AND name = ?`),
		ref.Tenant, ref.Environment, ref.Name).Scan(&n)
	return n + 1, err
}

// nextRevision is the number of the revision job records: the one it
// recorded already, if it ran before (recorded is then true), or the next
// after every revision of the name, destroyed incarnations included.
func (s *Store) nextRevision(ctx context.Context, tx *sql.Tx, ref core.DeploymentRef, job int64) (number int, recorded bool, err error) {
	if job != 0 {
		err = tx.QueryRowContext(ctx, s.d.rebind(`SELECT number FROM revisions WHERE tenant = ? AND environment = ? AND name = ? AND job_id = ? AND destroyed_at = 0`),
			ref.Tenant, ref.Environment, ref.Name, job).Scan(&number)
		if err == nil || !errors.Is(err, sql.ErrNoRows) {
			return number, err == nil, err
		}
	}
	err = tx.QueryRowContext(ctx, s.d.rebind(`SELECT COALESCE(MAX(number), 0) FROM revisions WHERE tenant = ? AND environment = ? AND name = ?`),
		ref.Tenant, ref.Environment, ref.Name).Scan(&number)
	return number + 1, false, err
}

// forUpdate locks the row in PostgreSQL; SQLite transactions are
// serialized already.
func (s *Store) forUpdate() string {
	if s.d.name == "postgres" {
		return ` FOR UPDATE`
	}
	return ``
}

// SaveState replaces a deployment's plugin state (after restart, scale...)
// and reseals its backend configuration with the current key, so that
// after a key rotation every rewritten record is on the new key.
func (s *Store) SaveState(ctx context.Context, ref core.DeploymentRef, state []byte) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("save state of %s: %w", ref, err)
	}
	defer tx.Rollback()
	var config []byte
	err = tx.QueryRowContext(ctx, s.d.rebind(`SELECT backend_config FROM deployments WHERE tenant = ? AND environment = ? AND name = ?`+s.forUpdate()),
		ref.Tenant, ref.Environment, ref.Name).Scan(&config)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("save state of %s: %w", ref, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("save state of %s: %w", ref, err)
	}
	if plain, err := s.sealer.open(config, configAAD(ref)); err == nil && len(config) > 0 {
		config = s.sealer.seal(plain, configAAD(ref))
	}
	if _, err := tx.ExecContext(ctx, s.d.rebind(`UPDATE deployments SET state = ?, backend_config = ?, updated_at = ? WHERE tenant = ? AND environment = ? AND name = ?`),
		s.sealer.seal(state, aad(ref)), config, time.Now().UnixMicro(), ref.Tenant, ref.Environment, ref.Name); err != nil {
		return fmt.Errorf("save state of %s: %w", ref, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("save state of %s: %w", ref, err)
	}
	return nil
}

// SaveStatus records the last status a backend reported.
func (s *Store) SaveStatus(ctx context.Context, ref core.DeploymentRef, st core.DeploymentStatus) error {
	raw, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("save status of %s: %w", ref, err)
	}
	return s.update(ctx, ref, "save status", `status = ?`, raw)
}

// MarkDestroyFailed keeps the deployment, with the reason its destroy
// failed, so that it stays visible until a destroy succeeds.
func (s *Store) MarkDestroyFailed(ctx context.Context, ref core.DeploymentRef, reason string) error {
	return s.update(ctx, ref, "record failed destroy", `destroy_error = ?`, reason)
}

func (s *Store) update(ctx context.Context, ref core.DeploymentRef, what, set string, value any) error {
	res, err := s.exec(ctx, `UPDATE deployments SET `+set+`, updated_at = ? WHERE tenant = ? AND environment = ? AND name = ?`,
		value, time.Now().UnixMicro(), ref.Tenant, ref.Environment, ref.Name)
	if err != nil {
		return fmt.Errorf("%s of %s: %w", what, ref, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%s of %s: %w", what, ref, ErrNotFound)
	}
	return nil
}

// DeleteDeployment forgets a deployment once its backend confirmed that
// everything is gone. Its revisions are kept, as history, marked with the
// end of their incarnation: the next apply of the name starts a new one.
func (s *Store) DeleteDeployment(ctx context.Context, ref core.DeploymentRef, by string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("delete %s: %w", ref, err)
	}
	defer tx.Rollback()
	where := ` WHERE tenant = ? AND environment = ? AND name = ?`
	if _, err := tx.ExecContext(ctx, s.d.rebind(`DELETE FROM deployments`+where), ref.Tenant, ref.Environment, ref.Name); err != nil {
		return fmt.Errorf("delete %s: %w", ref, err)
	}
	if _, err := tx.ExecContext(ctx, s.d.rebind(`UPDATE revisions SET destroyed_at = ?, destroyed_by = ?`+where+` AND destroyed_at = 0`),
		time.Now().UnixMicro(), by, ref.Tenant, ref.Environment, ref.Name); err != nil {
		return fmt.Errorf("delete %s: %w", ref, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("delete %s: %w", ref, err)
	}
	return nil
}

// Revisions lists a deployment's revisions, newest first, those of its
// destroyed incarnations included.
func (s *Store) Revisions(ctx context.Context, ref core.DeploymentRef) ([]Revision, error) {
	rows, err := s.db.QueryContext(ctx, s.d.rebind(`SELECT number, incarnation, spec, images, source_hash, applied_by, applied_at, outcome, error, destroyed_at, destroyed_by
		FROM revisions WHERE tenant = ? AND environment = ? AND name = ? ORDER BY number DESC`), ref.Tenant, ref.Environment, ref.Name)
	if err != nil {
		return nil, fmt.Errorf("list revisions of %s: %w", ref, err)
	}
	defer rows.Close()
	var out []Revision
	for rows.Next() {
		var r Revision
		var spec, images []byte
		var at, destroyed int64
		if err := rows.Scan(&r.Number, &r.Incarnation, &spec, &images, &r.SourceHash, &r.AppliedBy, &at, &r.Outcome, &r.Error, &destroyed, &r.DestroyedBy); err != nil {
			return nil, fmt.Errorf("list revisions of %s: %w", ref, err)
		}
		r.AppliedAt = time.UnixMicro(at).UTC()
		if destroyed != 0 {
			r.DestroyedAt = time.UnixMicro(destroyed).UTC()
		}
		if err := json.Unmarshal(spec, &r.Spec); err != nil {
			return nil, fmt.Errorf("revision %d of %s: %w", r.Number, ref, err)
		}
		_ = json.Unmarshal(images, &r.Images)
		out = append(out, r)
	}
	return out, rows.Err()
}

// Revision returns one revision; rolling back is applying its Spec as a
// new revision.
func (s *Store) Revision(ctx context.Context, ref core.DeploymentRef, number int) (*Revision, error) {
	revs, err := s.Revisions(ctx, ref)
	if err != nil {
		return nil, err
	}
	for _, r := range revs {
		if r.Number == number {
			return &r, nil
		}
	}
	return nil, fmt.Errorf("revision %d of %s: %w", number, ref, ErrNotFound)
}

// AuditEntry is one decision: who did (or was denied) what, and why.
type AuditEntry struct {
	At        time.Time
	Actor     string
	Tenant    string
	Action    string
	Target    string
	Decision  string // "allow" or "deny"
	Reason    string
	RequestID string
}

// AppendAudit adds an entry to the audit log.
func (s *Store) AppendAudit(ctx context.Context, e AuditEntry) error {
	if e.At.IsZero() {
		e.At = time.Now()
	}
	_, err := s.exec(ctx, `INSERT INTO audit (at, actor, tenant, action, target, decision, reason, request_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		e.At.UnixMicro(), e.Actor, e.Tenant, e.Action, e.Target, e.Decision, e.Reason, e.RequestID)
	if err != nil {
		return fmt.Errorf("append audit: %w", err)
	}
	return nil
}

// Audit lists entries of the given tenants (all when nil), newest first.
func (s *Store) Audit(ctx context.Context, tenants []string, limit int) ([]AuditEntry, error) {
	q, args := inClause(`SELECT at, actor, tenant, action, target, decision, reason, request_id FROM audit WHERE 1 = 1`, nil, "tenant", tenants)
	rows, err := s.db.QueryContext(ctx, s.d.rebind(q+` ORDER BY id DESC LIMIT ?`), append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("list audit: %w", err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		var at int64
		if err := rows.Scan(&at, &e.Actor, &e.Tenant, &e.Action, &e.Target, &e.Decision, &e.Reason, &e.RequestID); err != nil {
			return nil, fmt.Errorf("list audit: %w", err)
		}
		e.At = time.UnixMicro(at).UTC()
		out = append(out, e)
	}
	return out, rows.Err()
}
