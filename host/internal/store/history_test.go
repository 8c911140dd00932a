package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/alphaswarm/controller/core"
)

// history is a revision as the tests compare it.
type history struct {
	Number, Incarnation int
	Image               string
	Destroyed           bool
	DestroyedBy         string
}

func histories(t *testing.T, s *Store, ref core.DeploymentRef) []history {
	t.Helper()
	revs, err := s.Revisions(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	var out []history
	for _, r := range revs {
		out = append(out, history{r.Number, r.Incarnation, r.Spec.Services[0].Image, r.Destroyed(), r.DestroyedBy})
	}
	return out
}

// TestDestroyedNameAppliedAgainStartsANewIncarnation destroys a deployment
// and applies its name again: the new incarnation's revisions number on
// from the destroyed one's, and the history shows both, the destroyed one
// marked with who destroyed it.
func TestDestroyedNameAppliedAgainStartsANewIncarnation(t *testing.T) {
	backends(t, func(t *testing.T, cfg func(...string) Config) {
		s := mustOpen(t, cfg())
		ctx := context.Background()
		first := spec("acme", "shop", "")
		ref := first.Ref()
		record := func(image string) int {
			t.Helper()
			rev, err := s.RecordApply(ctx, Apply{Ref: ref, Backend: "b", Spec: spec("acme", "shop", image), AppliedBy: "alice"})
			if err != nil {
				t.Fatalf("record %s: %v", image, err)
			}
			return rev
		}
		record("web:1")
		record("web:2")
		if err := s.DeleteDeployment(ctx, ref, "bob"); err != nil {
			t.Fatal(err)
		}
		if rev := record("web:3"); rev != 3 {
			t.Errorf("the first revision after a destroy is %d, want 3", rev)
		}
		d, err := s.Deployment(ctx, ref)
		if err != nil || d.Revision != 3 || d.Incarnation != 2 {
			t.Fatalf("deployment after re-apply: %+v, %v", d, err)
		}
		if err := s.DeleteDeployment(ctx, ref, "carol"); err != nil {
			t.Fatal(err)
		}
		record("web:4")
		want := []history{
			{4, 3, "web:4", false, ""},
			{3, 2, "web:3", true, "carol"},
			{2, 1, "web:2", true, "bob"},
			{1, 1, "web:1", true, "bob"},
		}
		if diff := cmp.Diff(want, histories(t, s, ref)); diff != "" {
			t.Errorf("history (-want +got):\n%s", diff)
		}
	})
}

// TestRecordingAJobTwiceRecordsOneRevision records the same job's apply
// twice, as a job whose host died after the record and before the job's
// outcome does: one revision, and the deployment holds the later state.
func TestRecordingAJobTwiceRecordsOneRevision(t *testing.T) {
	backends(t, func(t *testing.T, cfg func(...string) Config) {
		s := mustOpen(t, cfg())
		ctx := context.Background()
		sp := spec("acme", "shop", "web:1")
		for i, state := range []string{"first", "second"} {
			rev, err := s.RecordApply(ctx, Apply{Ref: sp.Ref(), Backend: "b", Spec: sp, State: []byte(state), JobID: 7})
			if err != nil || rev != 1 {
				t.Fatalf("record %d: revision %d, %v", i+1, rev, err)
			}
		}
		if d, err := s.Deployment(ctx, sp.Ref()); err != nil || string(d.State) != "second" {
			t.Fatalf("deployment: %+v, %v", d, err)
		}
		if rev, err := s.RecordApply(ctx, Apply{Ref: sp.Ref(), Backend: "b", Spec: sp, JobID: 8}); err != nil || rev != 2 {
			t.Errorf("another job's apply: revision %d, %v", rev, err)
		}
		if n := len(histories(t, s, sp.Ref())); n != 2 {
			t.Errorf("%d revisions, want 2", n)
		}
	})
}

// TestIsTransient classifies errors the real databases return: a
// violated constraint fails for good, a busy SQLite database and a
// PostgreSQL server that does not answer may pass.
func TestIsTransient(t *testing.T) {
	backends(t, func(t *testing.T, cfg func(...string) Config) {
		s := mustOpen(t, cfg())
		ctx := context.Background()
		insert := `INSERT INTO revisions (tenant, environment, name, number, spec, images, source_hash, applied_by, applied_at, outcome) VALUES ('a', 'e', 'n', 1, '', '', '', '', 0, '')`
		if _, err := s.exec(ctx, insert); err != nil {
			t.Fatal(err)
		}
		_, err := s.exec(ctx, insert)
		if err == nil || IsTransient(err) {
			t.Errorf("a unique constraint violation: transient %v (%v)", IsTransient(err), err)
		}
		_, err = s.exec(ctx, `SELECT no_such_column FROM revisions`)
		if err == nil || IsTransient(err) {
			t.Errorf("a statement the schema rejects: transient %v (%v)", IsTransient(err), err)
		}
		if IsTransient(fmt.Errorf("record apply: %w", sql.ErrNoRows)) || IsTransient(nil) {
			t.Error("no rows, or no error, is transient")
		}
	})
	t.Run("sqlite busy", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		s := mustOpen(t, Config{DataDir: dir})
		other, err := sql.Open("sqlite", "file:"+dir+"/alphaswarm.db?_txlock=immediate")
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		tx, err := other.Begin() // holds the write lock
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		ctx := context.Background()
		conn, err := s.db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, `PRAGMA busy_timeout = 10`); err != nil {
			t.Fatal(err)
		}
		_, err = conn.ExecContext(ctx, `INSERT INTO audit (at, actor, tenant, action, target, decision, reason, request_id) VALUES (0, '', '', '', '', '', '', '')`)
		if err == nil || !IsTransient(err) {
			t.Errorf("a locked SQLite database: transient %v (%v)", IsTransient(err), err)
		}
	})
	t.Run("postgres away", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err := Open(ctx, Config{DatabaseURL: "postgres://nobody@127.0.0.1:1/none?connect_timeout=2", StateKeys: []string{newKey()}})
		if err == nil || !IsTransient(err) {
			t.Errorf("a PostgreSQL server that does not answer: transient %v (%v)", IsTransient(err), err)
		}
		if errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("the refusal took the whole deadline: %v", err)
		}
	})
}

// TestMigrationEndsTheIncarnationsOfDestroyedDeployments upgrades a
// database left by a host that kept the revisions of a destroyed
// deployment and could not apply its name again: after the migration the
// old revisions are marked destroyed and the name applies again, as
// revision 3 of incarnation 2.
func TestMigrationEndsTheIncarnationsOfDestroyedDeployments(t *testing.T) {
	backends(t, func(t *testing.T, cfg func(...string) Config) {
		ctx := context.Background()
		c := cfg()
		d, dsn := sqliteDialect, "file:"+c.DataDir+"/alphaswarm.db?_txlock=immediate"
		if c.DatabaseURL != "" {
			d, dsn = postgresDialect, c.DatabaseURL
		}
		db, err := sql.Open(d.driver, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if err := migrateTo(ctx, db, d, 3); err != nil {
			t.Fatal(err)
		}
		for n := 1; n <= 2; n++ {
			if _, err := db.ExecContext(ctx, d.rebind(`INSERT INTO revisions (tenant, environment, name, number, spec, images, source_hash, applied_by, applied_at, outcome)
				VALUES ('acme', 'prod', 'gone', ?, '{"services":[{"name":"web","image":"web:old"}]}', '{}', '', 'alice', ?, 'succeeded')`), n, int64(n)*1000); err != nil {
				t.Fatal(err)
			}
		}
		s := mustOpen(t, c)
		sp := spec("acme", "gone", "web:new")
		if rev, err := s.RecordApply(ctx, Apply{Ref: sp.Ref(), Backend: "b", Spec: sp}); err != nil || rev != 3 {
			t.Fatalf("apply after the migration: revision %d, %v", rev, err)
		}
		want := []history{{3, 2, "web:new", false, ""}, {2, 1, "web:old", true, ""}, {1, 1, "web:old", true, ""}}
		if diff := cmp.Diff(want, histories(t, s, sp.Ref())); diff != "" {
			t.Errorf("history (-want +got):\n%s", diff)
		}
	})
}
