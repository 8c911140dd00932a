package jobs

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/core/credentials"
	"github.com/alphaswarm/controller/host/internal/api/wire"
	"github.com/alphaswarm/controller/host/internal/pluginmgr"
	"github.com/alphaswarm/controller/host/internal/store"
	"github.com/alphaswarm/controller/sdk"
)

func TestRetriable(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"no error", nil, false},
		{"plugin crashed or backend unavailable", fmt.Errorf("apply: %w", &sdk.UnavailableError{Message: "connection refused"}), true},
		{"database serialization failure", fmt.Errorf("record the apply: %w", &pgconn.PgError{Code: "40001"}), true},
		{"database shutting down", &pgconn.PgError{Code: "57P01"}, true},
		{"host stopping", fmt.Errorf("apply: %w", context.Canceled), true},
		{"plugin instance replaced", fmt.Errorf("backend %q: %w", "acme/memory.sim", pluginmgr.ErrStopped), true},
		{"unique constraint", fmt.Errorf("record the apply: %w", &pgconn.PgError{Code: "23505"}), false},
		{"invalid job", fmt.Errorf("%w: no spec", errInvalidJob), false},
		{"backend rejects the spec", errors.New("image not found"), false},
		{"unsupported", sdk.Unsupported("memory", "exec"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := Retriable(tc.err); got != tc.want {
				t.Errorf("Retriable(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}

// TestStoreRefusalFailsTheJobAtOnce makes the store refuse every new
// revision, as a constraint would: the apply job fails on its first
// attempt, and its error names the store's refusal, not "unavailable".
func TestStoreRefusalFailsTheJobAtOnce(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		trigger := `CREATE TRIGGER refuse_revisions BEFORE INSERT ON revisions BEGIN SELECT RAISE(ABORT, 'revisions are frozen'); END`
		if e.store.Dialect() == "postgres" {
			trigger = `CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'revisions are frozen' USING ERRCODE = 'check_violation'; END $$;
				CREATE TRIGGER refuse_revisions BEFORE INSERT ON revisions FOR EACH ROW EXECUTE FUNCTION refuse()`
		}
		if _, err := e.rawDB().Exec(trigger); err != nil {
			t.Fatal(err)
		}
		spec := shop("frozen")
		id := e.enqueue(t, wire.OpApply, spec.Ref(), Payload{Backend: memoryBackend(`{}`), Spec: &spec})
		e.drain(t)
		j := e.job(t, id)
		if j.State != store.JobFailed || j.Attempts != 1 || !strings.Contains(j.Error, "record the apply") ||
			!strings.Contains(j.Error, "revisions are frozen") || strings.Contains(j.Error, "unavailable") {
			t.Errorf("job: %s after %d attempt(s): %s", j.State, j.Attempts, j.Error)
		}
	})
}

// TestSecretsAreTheTenantsOwn applies deployments of two tenants that
// reference the same secret name: each gets its own tenant's value, and a
// tenant without one fails at once, saying which tenant lacks it, never
// falling back to another tenant's or the operator's value.
func TestSecretsAreTheTenantsOwn(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		vars := map[string]string{
			"ALPHASWARM_TENANT_SECRET_ACME__DB": "acme-value",
			"ALPHASWARM_SECRET_DB":              "operator-value",
		}
		resolver := &credentials.Resolver{Store: &credentials.EnvStore{Getenv: func(k string) string { return vars[k] }}, StoreName: "env"}
		e.worker.Runner = &Executor{Store: e.store, Plugins: e.plugins, Backends: e.backends, Secrets: resolver}
		ids := map[string]int64{}
		for _, tenant := range []string{"acme", "globex"} {
			spec := shop("with-secret")
			spec.Tenant = tenant
			spec.Services[0].SecretEnv = []core.SecretRef{{Env: "DB", Ref: "db"}}
			ids[tenant] = e.enqueue(t, wire.OpApply, spec.Ref(), Payload{Backend: memoryBackend(`{}`), Spec: &spec})
		}
		e.drain(t)
		if j := e.job(t, ids["acme"]); j.State != store.JobSucceeded {
			t.Errorf("acme's apply with its own secret: %s: %s", j.State, j.Error)
		}
		j := e.job(t, ids["globex"])
		if j.State != store.JobFailed || j.Attempts != 1 || !strings.Contains(j.Error, `"db" of tenant globex`) ||
			!strings.Contains(j.Error, "ALPHASWARM_TENANT_SECRET_GLOBEX__DB is not set") || strings.Contains(j.Error, "value") {
			t.Errorf("globex's apply without a secret of its own: %s after %d attempt(s): %s", j.State, j.Attempts, j.Error)
		}
	})
}
