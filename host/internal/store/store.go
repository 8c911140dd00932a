package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
	_ "modernc.org/sqlite"             // registers "sqlite"

	"github.com/alphaswarm/controller/core"
)

// Config says where the state lives.
type Config struct {
	// DataDir holds the SQLite database and, without StateKeys, the key
	// that encrypts plugin state.
	DataDir string
	// DatabaseURL, when set (postgres://...), selects PostgreSQL.
	DatabaseURL string
	// StateKeys are base64 AES-256 keys; the first encrypts, all decrypt.
	// Required with PostgreSQL, where every host must share them.
	StateKeys []string
}

// Store is the control plane's state.
type Store struct {
	db     *sql.DB
	d      dialect
	sealer *sealer
}

// ErrNotFound says the deployment or revision does not exist.
var ErrNotFound = errors.New("not found")

// Open connects, migrates, and returns the store.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	keys := cfg.StateKeys
	var d dialect
	var dsn string
	switch {
	case cfg.DatabaseURL != "":
		d, dsn = postgresDialect, cfg.DatabaseURL
		if len(keys) == 0 {
			return nil, errors.New("open store: PostgreSQL needs state keys shared by every host (ALPHASWARM_STATE_KEYS)")
		}
	default:
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("open store: %w", err)
		}
		d = sqliteDialect
		dsn = "file:" + filepath.Join(cfg.DataDir, "alphaswarm.db") +
			"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)&_txlock=immediate"
		if len(keys) == 0 {
			key, err := dataDirKey(cfg.DataDir)
			if err != nil {
				return nil, fmt.Errorf("open store: %w", err)
			}
			keys = []string{key}
		}
	}
	s, err := newSealer(keys)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	db, err := sql.Open(d.driver, dsn)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	if err := migrate(ctx, db, d); err != nil {
		db.Close()
		return nil, fmt.Errorf("open store: %w", err)
	}
	return &Store{db: db, d: d, sealer: s}, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// Dialect is "sqlite" or "postgres".
func (s *Store) Dialect() string { return s.d.name }

func (s *Store) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return s.db.ExecContext(ctx, s.d.rebind(q), args...)
}

// Deployment is the stored record of one deployment.
type Deployment struct {
	Ref     core.DeploymentRef
	Backend string
	Spec    core.DeploymentSpec
	State   []byte // decrypted
	// BackendConfig is the backend block's configuration as applied
	// (decrypted; it holds no secret values, but may name endpoints).
	BackendConfig []byte
	Status        *core.DeploymentStatus
	Revision      int
	// Incarnation counts the lives of the name (see Revision.Incarnation).
	Incarnation int
	// DestroyError is why the last destroy failed; the record stays until a
	// destroy succeeds.
	DestroyError string
	Created      time.Time
	Updated      time.Time
}

// aad binds a sealed state blob to its deployment.
func aad(ref core.DeploymentRef) string { return ref.String() }

// configAAD binds a sealed backend configuration to its deployment, apart
// from its state.
func configAAD(ref core.DeploymentRef) string { return ref.String() + "#backend" }

const deploymentColumns = `tenant, environment, name, backend, spec, state, status, revision, destroy_error, created_at, updated_at, backend_config, incarnation`

func (s *Store) scanDeployment(row interface{ Scan(...any) error }) (*Deployment, error) {
	var d Deployment
	var spec, state, status, backendConfig []byte
	var created, updated int64
	if err := row.Scan(&d.Ref.Tenant, &d.Ref.Environment, &d.Ref.Name, &d.Backend, &spec, &state, &status,
		&d.Revision, &d.DestroyError, &created, &updated, &backendConfig, &d.Incarnation); err != nil {
		return nil, err
	}
	d.Created, d.Updated = time.UnixMicro(created).UTC(), time.UnixMicro(updated).UTC()
	if err := json.Unmarshal(spec, &d.Spec); err != nil {
		return &d, fmt.Errorf("deployment %s: decode stored spec: %w", d.Ref, err)
	}
	if len(status) > 0 {
		d.Status = &core.DeploymentStatus{}
		if err := json.Unmarshal(status, d.Status); err != nil {
			return &d, fmt.Errorf("deployment %s: decode stored status: %w", d.Ref, err)
		}
	}
	if len(backendConfig) > 0 {
		plain, err := s.sealer.open(backendConfig, configAAD(d.Ref))
		if err != nil {
			return &d, fmt.Errorf("deployment %s: backend configuration: %w", d.Ref, err)
		}
		d.BackendConfig = plain
	}
	plain, err := s.sealer.open(state, aad(d.Ref))
	if err != nil {
		return &d, fmt.Errorf("deployment %s: %w", d.Ref, err)
	}
	d.State = plain
	return &d, nil
}

// Deployment reads one deployment. A state blob that does not decrypt is
// an error wrapping ErrCorruptState that names the deployment; the other
// fields are returned with it.
func (s *Store) Deployment(ctx context.Context, ref core.DeploymentRef) (*Deployment, error) {
	row := s.db.QueryRowContext(ctx, s.d.rebind(`SELECT `+deploymentColumns+` FROM deployments WHERE tenant = ? AND environment = ? AND name = ?`),
		ref.Tenant, ref.Environment, ref.Name)
	d, err := s.scanDeployment(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("deployment %s: %w", ref, ErrNotFound)
	}
	return d, err
}

// Filter narrows a listing in the query itself: only the tenants (and, if
// set, environments) a caller may see.
type Filter struct {
	Tenants      []string
	Environments []string
	Name         string // one deployment name, in any of those environments
	Backend      string // only deployments on this backend instance
}

// Deployments lists the deployments the filter allows, by tenant,
// environment and name. A deployment whose state does not decrypt is
// listed with a nil State; it does not hide the others.
func (s *Store) Deployments(ctx context.Context, f Filter) ([]Deployment, error) {
	q, args := `SELECT `+deploymentColumns+` FROM deployments WHERE 1 = 1`, []any{}
	q, args = inClause(q, args, "tenant", f.Tenants)
	q, args = inClause(q, args, "environment", f.Environments)
	if f.Name != "" {
		q, args = q+` AND name = ?`, append(args, f.Name)
	}
	if f.Backend != "" {
		q, args = q+` AND backend = ?`, append(args, f.Backend)
	}
	rows, err := s.db.QueryContext(ctx, s.d.rebind(q+` ORDER BY tenant, environment, name`), args...)
	if err != nil {
		return nil, fmt.Errorf("list deployments: %w", err)
	}
	defer rows.Close()
	var out []Deployment
	for rows.Next() {
		d, err := s.scanDeployment(rows)
		if d == nil {
			return nil, fmt.Errorf("list deployments: %w", err)
		}
		out = append(out, *d)
	}
	return out, rows.Err()
}

// inClause adds "AND col IN (...)" for a non-nil list; an empty, non-nil
// list matches nothing.
func inClause(q string, args []any, col string, values []string) (string, []any) {
	if values == nil {
		return q, args
	}
	if len(values) == 0 {
		return q + ` AND 1 = 0`, args
	}
	q += ` AND ` + col + ` IN (` + strings.TrimSuffix(strings.Repeat("?, ", len(values)), ", ") + `)`
	for _, v := range values {
		args = append(args, v)
	}
	return q, args
}
