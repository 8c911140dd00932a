package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/host/internal/testpg"
)

func TestMain(m *testing.M) { testpg.Main(m, nil) }

func newKey() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// backends runs fn once on SQLite and once on PostgreSQL, each with a store
// of its own. Without PostgreSQL the second run fails under CI=true and is
// skipped, saying why, elsewhere.
func backends(t *testing.T, fn func(t *testing.T, cfg func(keys ...string) Config)) {
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		fn(t, func(keys ...string) Config { return Config{DataDir: dir, StateKeys: keys} })
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		url, err := testpg.Shared(t).NewDatabase(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		shared := newKey()
		fn(t, func(keys ...string) Config {
			if len(keys) == 0 {
				keys = []string{shared}
			}
			return Config{DatabaseURL: url, StateKeys: keys}
		})
	})
}

func mustOpen(t *testing.T, cfg Config) *Store {
	t.Helper()
	s, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func spec(tenant, name, image string) core.DeploymentSpec {
	return core.DeploymentSpec{Tenant: tenant, Environment: "prod", Name: name,
		Services: []core.ServiceSpec{{Name: "web", Image: image, Replicas: 2,
			SecretEnv: []core.SecretRef{{Env: "TOKEN", Ref: "shop/token"}}}}}
}

func TestRecordApplyAndRevisions(t *testing.T) {
	backends(t, func(t *testing.T, cfg func(...string) Config) {
		open := func(keys ...string) *Store { return mustOpen(t, cfg(keys...)) }
		s := open()
		ctx := context.Background()
		v1, v2 := spec("acme", "shop", "web:1"), spec("acme", "shop", "web:2")
		for i, sp := range []core.DeploymentSpec{v1, v2} {
			rev, err := s.RecordApply(ctx, Apply{Ref: sp.Ref(), Backend: "compose.local", Spec: sp, State: []byte(fmt.Sprintf(`{"gen":%d}`, i+1)),
				Images: map[string]string{"web": sp.Services[0].Image}, SourceHash: "sha256:abc", AppliedBy: "alice"})
			if err != nil || rev != i+1 {
				t.Fatalf("apply %d: revision %d, %v", i+1, rev, err)
			}
		}
		d, err := s.Deployment(ctx, v1.Ref())
		if err != nil {
			t.Fatal(err)
		}
		if d.Revision != 2 || string(d.State) != `{"gen":2}` || d.Backend != "compose.local" {
			t.Errorf("deployment %+v", d)
		}
		if diff := cmp.Diff(v2, d.Spec); diff != "" {
			t.Errorf("spec (-want +got):\n%s", diff)
		}
		revs, err := s.Revisions(ctx, v1.Ref())
		if err != nil || len(revs) != 2 || revs[0].Number != 2 || revs[1].Spec.Services[0].Image != "web:1" || revs[0].AppliedBy != "alice" {
			t.Fatalf("revisions %+v, %v", revs, err)
		}
		// Rolling back is applying an earlier revision's spec as a new one.
		old, _ := s.Revision(ctx, v1.Ref(), 1)
		if rev, _ := s.RecordApply(ctx, Apply{Ref: v1.Ref(), Backend: "compose.local", Spec: old.Spec}); rev != 3 {
			t.Errorf("rollback made revision %d, want 3", rev)
		}
		if _, err := s.Deployment(ctx, core.DeploymentRef{Tenant: "acme", Environment: "prod", Name: "nope"}); !errors.Is(err, ErrNotFound) {
			t.Errorf("missing deployment: %v", err)
		}
	})
}

func TestStateIsEncryptedAtRest(t *testing.T) {
	backends(t, func(t *testing.T, cfg func(...string) Config) {
		open := func(keys ...string) *Store { return mustOpen(t, cfg(keys...)) }
		s := open()
		ctx := context.Background()
		sp := spec("acme", "shop", "web:1")
		if _, err := s.RecordApply(ctx, Apply{Ref: sp.Ref(), Backend: "b", Spec: sp, State: []byte("plugin-state-marker")}); err != nil {
			t.Fatal(err)
		}
		var raw []byte
		if err := s.db.QueryRow(`SELECT state FROM deployments`).Scan(&raw); err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(raw, []byte("plugin-state-marker")) || !bytes.HasPrefix(raw, []byte(sealVersion)) {
			t.Errorf("stored state is not sealed: %q", raw)
		}
	})
}

// TestCorruptStateIsIsolated damages one deployment's state, and moves
// another's to a third row: each fails on its own, naming itself, and the
// rest of the store is unaffected.
func TestCorruptStateIsIsolated(t *testing.T) {
	backends(t, func(t *testing.T, cfg func(...string) Config) {
		open := func(keys ...string) *Store { return mustOpen(t, cfg(keys...)) }
		s := open()
		ctx := context.Background()
		for _, name := range []string{"a", "b", "c"} {
			sp := spec("acme", name, "web:1")
			if _, err := s.RecordApply(ctx, Apply{Ref: sp.Ref(), Backend: "b", Spec: sp, State: []byte("state of " + name)}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.exec(ctx, `UPDATE deployments SET state = ? WHERE name = 'a'`, []byte("as1:trunc")); err != nil {
			t.Fatal(err)
		}
		if _, err := s.exec(ctx, `UPDATE deployments SET state = (SELECT state FROM deployments WHERE name = 'c') WHERE name = 'b'`); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"a", "b"} {
			_, err := s.Deployment(ctx, core.DeploymentRef{Tenant: "acme", Environment: "prod", Name: name})
			if !errors.Is(err, ErrCorruptState) || !strings.Contains(err.Error(), "acme/prod/"+name) {
				t.Errorf("deployment %s: %v, want ErrCorruptState naming it", name, err)
			}
		}
		c, err := s.Deployment(ctx, core.DeploymentRef{Tenant: "acme", Environment: "prod", Name: "c"})
		if err != nil || string(c.State) != "state of c" {
			t.Errorf("the intact deployment: %+v, %v", c, err)
		}
		list, err := s.Deployments(ctx, Filter{})
		if err != nil || len(list) != 3 {
			t.Errorf("listing with corrupt rows: %d deployments, %v", len(list), err)
		}
	})
}

func TestKeyRotation(t *testing.T) {
	backends(t, func(t *testing.T, cfg func(...string) Config) {
		open := func(keys ...string) *Store { return mustOpen(t, cfg(keys...)) }
		ctx := context.Background()
		oldKey, newKey := newKey(), newKey()
		sp := spec("acme", "shop", "web:1")
		s := open(oldKey)
		if _, err := s.RecordApply(ctx, Apply{Ref: sp.Ref(), Backend: "b", Spec: sp, State: []byte("v1"), BackendConfig: []byte(`{"host":"h"}`)}); err != nil {
			t.Fatal(err)
		}
		s.Close()
		both := open(newKey, oldKey) // the new key first: it seals, both open
		d, err := both.Deployment(ctx, sp.Ref())
		if err != nil || string(d.State) != "v1" {
			t.Fatalf("read with the old key second: %+v, %v", d, err)
		}
		if err := both.SaveState(ctx, sp.Ref(), d.State); err != nil { // rewrite: now sealed with the new key
			t.Fatal(err)
		}
		both.Close()
		if d, err := open(newKey).Deployment(ctx, sp.Ref()); err != nil || string(d.State) != "v1" || string(d.BackendConfig) != `{"host":"h"}` {
			t.Errorf("read with the new key alone after rewriting: %+v, %v", d, err)
		}
		if _, err := open(oldKey).Deployment(ctx, sp.Ref()); !errors.Is(err, ErrCorruptState) || !strings.Contains(err.Error(), "not configured") {
			t.Errorf("read with only the retired key: %v", err)
		}
	})
}

func TestListingIsFilteredInTheQuery(t *testing.T) {
	backends(t, func(t *testing.T, cfg func(...string) Config) {
		open := func(keys ...string) *Store { return mustOpen(t, cfg(keys...)) }
		s := open()
		ctx := context.Background()
		for _, sp := range []core.DeploymentSpec{spec("acme", "shop", "web:1"), spec("globex", "shop", "web:1"), spec("acme", "blog", "web:1")} {
			if _, err := s.RecordApply(ctx, Apply{Ref: sp.Ref(), Backend: "b", Spec: sp}); err != nil {
				t.Fatal(err)
			}
		}
		names := func(f Filter) []string {
			list, err := s.Deployments(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, d := range list {
				out = append(out, d.Ref.String())
			}
			return out
		}
		if got := names(Filter{Tenants: []string{"acme"}}); fmt.Sprint(got) != "[acme/prod/blog acme/prod/shop]" {
			t.Errorf("acme sees %v", got)
		}
		if got := names(Filter{Tenants: []string{}}); len(got) != 0 {
			t.Errorf("no tenants sees %v", got)
		}
		if got := names(Filter{Tenants: []string{"globex"}, Environments: []string{"dev"}}); len(got) != 0 {
			t.Errorf("globex in dev sees %v", got)
		}
		if got := names(Filter{}); len(got) != 3 {
			t.Errorf("unfiltered sees %v", got)
		}
	})
}

func TestFailedDestroyKeepsTheRecord(t *testing.T) {
	backends(t, func(t *testing.T, cfg func(...string) Config) {
		open := func(keys ...string) *Store { return mustOpen(t, cfg(keys...)) }
		s := open()
		ctx := context.Background()
		sp := spec("acme", "shop", "web:1")
		s.RecordApply(ctx, Apply{Ref: sp.Ref(), Backend: "b", Spec: sp})
		if err := s.MarkDestroyFailed(ctx, sp.Ref(), "engine unreachable"); err != nil {
			t.Fatal(err)
		}
		d, err := s.Deployment(ctx, sp.Ref())
		if err != nil || d.DestroyError != "engine unreachable" {
			t.Fatalf("after a failed destroy: %+v, %v", d, err)
		}
		if err := s.DeleteDeployment(ctx, sp.Ref(), "bob"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Deployment(ctx, sp.Ref()); !errors.Is(err, ErrNotFound) {
			t.Errorf("after delete: %v", err)
		}
		if revs, _ := s.Revisions(ctx, sp.Ref()); len(revs) != 1 {
			t.Errorf("history lost with the record: %d revisions", len(revs))
		}
	})
}

func TestSchemaNewerThanBinaryIsRefused(t *testing.T) {
	backends(t, func(t *testing.T, cfg func(...string) Config) {
		s := mustOpen(t, cfg())
		if _, err := s.exec(context.Background(), `INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)`); err != nil {
			t.Fatal(err)
		}
		s.Close()
		_, err := Open(context.Background(), cfg())
		var tooNew *ErrSchemaTooNew
		if !errors.As(err, &tooNew) || tooNew.Database != 999 || tooNew.Binary != SchemaVersion() {
			t.Errorf("open a newer database: %v", err)
		}
	})
}

func TestAudit(t *testing.T) {
	backends(t, func(t *testing.T, cfg func(...string) Config) {
		open := func(keys ...string) *Store { return mustOpen(t, cfg(keys...)) }
		s := open()
		ctx := context.Background()
		for _, e := range []AuditEntry{
			{Actor: "alice", Tenant: "acme", Action: "deploy", Target: "acme/prod/shop", Decision: "allow", RequestID: "r1"},
			{Actor: "mallory", Tenant: "acme", Action: "destroy", Target: "acme/prod/shop", Decision: "deny", Reason: "missing deployments:destroy", RequestID: "r2"},
			{Actor: "bob", Tenant: "globex", Action: "deploy", Target: "globex/prod/shop", Decision: "allow", RequestID: "r3"},
		} {
			if err := s.AppendAudit(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.Audit(ctx, []string{"acme"}, 10)
		if err != nil || len(got) != 2 || got[0].Actor != "mallory" || got[0].Reason != "missing deployments:destroy" {
			t.Errorf("acme's audit: %+v, %v", got, err)
		}
	})
}

func TestPostgresNeedsSharedKeys(t *testing.T) {
	t.Parallel()
	_, err := Open(context.Background(), Config{DatabaseURL: "postgres://nowhere/db"})
	if err == nil || !strings.Contains(err.Error(), "ALPHASWARM_STATE_KEYS") {
		t.Errorf("PostgreSQL without keys: %v", err)
	}
}
