package jobs

import (
	"context"
	"database/sql"
	"encoding/json"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/host/internal/api/wire"
	"github.com/alphaswarm/controller/host/internal/backends"
	"github.com/alphaswarm/controller/host/internal/pluginmgr"
	"github.com/alphaswarm/controller/host/internal/store"
	"github.com/alphaswarm/controller/host/internal/testbin"
	"github.com/alphaswarm/controller/host/internal/testpg"
)

var (
	pluginDir string
)

func TestMain(m *testing.M) {
	testpg.Main(m, func(tmp string) (err error) {
		pluginDir, err = testbin.PluginDir(tmp, false)
		return err
	})
}

// env is a store, a plugin manager and a worker running on them.
type env struct {
	store    *store.Store
	plugins  *pluginmgr.Manager
	backends *backends.Registry
	worker   *Worker
	rawDB    func() *sql.DB // the database under the store, to damage it
}

// stores runs fn on SQLite and on PostgreSQL.
func stores(t *testing.T, fn func(t *testing.T, e *env)) {
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			cfg := store.Config{DataDir: t.TempDir()}
			driver, dsn := "sqlite", "file:"+filepath.Join(cfg.DataDir, "alphaswarm.db")
			if kind == "postgres" {
				url := testpg.SharedDatabase(t)
				cfg = store.Config{DatabaseURL: url, StateKeys: []string{"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="}}
				driver, dsn = "pgx", url
			}
			s, err := store.Open(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			m := pluginmgr.New(pluginmgr.Config{PluginDirs: []string{pluginDir}, StartTimeout: 10 * time.Second})
			t.Cleanup(m.Close)
			reg, err := backends.Open(context.Background(), backends.ForEveryone("memory.sim"), "test.hcl", nil, m)
			if err != nil {
				t.Fatal(err)
			}
			e := &env{store: s, plugins: m, backends: reg, rawDB: func() *sql.DB {
				db, err := sql.Open(driver, dsn)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { db.Close() })
				return db
			}}
			e.worker = &Worker{Store: s, Runner: &Executor{Store: s, Plugins: m, Backends: reg}, Owner: "test-" + kind, Lease: 3 * time.Second, Poll: 20 * time.Millisecond}
			fn(t, e)
		})
	}
}

func memoryBackend(config string) Backend {
	return Backend{Type: "memory", Name: "sim", Config: json.RawMessage(config)}
}

func shop(name string) core.DeploymentSpec {
	return core.DeploymentSpec{Tenant: "acme", Environment: "prod", Name: name,
		Services: []core.ServiceSpec{{Name: "web", Image: "web:1", Replicas: 2}}}
}

func (e *env) enqueue(t *testing.T, kind wire.Op, ref core.DeploymentRef, p Payload) int64 {
	t.Helper()
	id, err := e.store.Enqueue(context.Background(), store.NewJob{Deployment: ref, Kind: string(kind), Payload: p, CreatedBy: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// drain runs jobs until none is left.
func (e *env) drain(t *testing.T) {
	t.Helper()
	for {
		ran, err := e.worker.RunOne(context.Background(), context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if !ran {
			return
		}
	}
}

func (e *env) job(t *testing.T, id int64) *store.Job {
	t.Helper()
	j, err := e.store.Job(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func TestApplyThenRuntimeJobs(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		spec := shop("shop")
		b := memoryBackend(`{}`)
		ids := []int64{
			e.enqueue(t, wire.OpApply, spec.Ref(), Payload{Backend: b, Spec: &spec, SourceHash: "sha256:1"}),
			e.enqueue(t, wire.OpScale, spec.Ref(), Payload{Backend: b, Service: "web", Replicas: 3}),
			e.enqueue(t, wire.OpStop, spec.Ref(), Payload{Backend: b}),
		}
		e.drain(t)
		for _, id := range ids {
			if j := e.job(t, id); j.State != store.JobSucceeded || j.Attempts != 1 {
				t.Errorf("job %d (%s): %s after %d attempts: %s", id, j.Kind, j.State, j.Attempts, j.Error)
			}
		}
		d, err := e.store.Deployment(context.Background(), spec.Ref())
		if err != nil || d.Revision != 1 || d.Status == nil {
			t.Fatalf("deployment after the jobs: %+v, %v", d, err)
		}
		if ws := d.Status.Service("web"); ws == nil || ws.Health != core.HealthDown || ws.Desired != 3 {
			t.Errorf("status after scale to 3 and stop: %+v", ws)
		}
		events, _, _ := e.store.Events(context.Background(), ids[0], 0)
		if len(events) < 3 || !strings.HasPrefix(events[0].Message, "claimed by test-") ||
			!strings.Contains(events[1].Message, "apply of acme/prod/shop on memory.sim, attempt 1") {
			t.Errorf("apply events: %+v", events)
		}
		destroy := e.enqueue(t, wire.OpDestroy, spec.Ref(), Payload{Backend: b})
		e.drain(t)
		if j := e.job(t, destroy); j.State != store.JobSucceeded {
			t.Errorf("destroy: %s %s", j.State, j.Error)
		}
		if _, err := e.store.Deployment(context.Background(), spec.Ref()); err == nil {
			t.Errorf("the deployment is still recorded after destroy")
		}
	})
}

// TestPluginKilledMidApplyIsRetried kills the plugin process with SIGKILL
// while it applies: the job fails as retriable, backs off, runs again on a
// relaunched plugin and succeeds.
func TestPluginKilledMidApplyIsRetried(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		spec := shop("slow")
		id := e.enqueue(t, wire.OpApply, spec.Ref(), Payload{Backend: memoryBackend(`{"latency": "1500ms"}`), Spec: &spec})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go e.worker.Run(ctx, ctx)
		pid := waitForPlugin(t, e, spec.Tenant+"/memory.sim")
		time.Sleep(300 * time.Millisecond) // inside the apply's latency
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		j := waitForJob(t, e, id, 30*time.Second)
		if j.State != store.JobSucceeded || j.Attempts != 2 {
			t.Fatalf("job after the plugin was killed: %s after %d attempts: %s", j.State, j.Attempts, j.Error)
		}
		if d, err := e.store.Deployment(context.Background(), spec.Ref()); err != nil || d.Revision != 1 {
			t.Errorf("deployment: %+v, %v; want exactly one revision", d, err)
		}
	})
}

func waitForPlugin(t *testing.T, e *env, instance string) int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if inst := e.plugins.Instance(instance); inst != nil {
			if c, err := inst.Client(context.Background()); err == nil && c.Pid() > 0 {
				return c.Pid()
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("plugin instance %s did not start", instance)
	return 0
}

func waitForJob(t *testing.T, e *env, id int64, timeout time.Duration) *store.Job {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		j := e.job(t, id)
		if j.State != store.JobQueued && j.State != store.JobRunning {
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %d still %s after %s (attempts %d, error %q)", id, j.State, timeout, j.Attempts, j.Error)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestCorruptStateFailsOnlyItsDeployment damages one deployment's stored
// state: its job fails with an error that names it, and the other
// deployment's job succeeds.
func TestCorruptStateFailsOnlyItsDeployment(t *testing.T) {
	stores(t, func(t *testing.T, e *env) {
		b := memoryBackend(`{}`)
		good, bad := shop("good"), shop("bad")
		e.enqueue(t, wire.OpApply, good.Ref(), Payload{Backend: b, Spec: &good})
		e.enqueue(t, wire.OpApply, bad.Ref(), Payload{Backend: b, Spec: &bad})
		e.drain(t)
		if _, err := e.rawDB().Exec(`UPDATE deployments SET state = 'as1:garbage' WHERE name = 'bad'`); err != nil {
			t.Fatal(err)
		}
		badJob := e.enqueue(t, wire.OpRestart, bad.Ref(), Payload{Backend: b})
		goodJob := e.enqueue(t, wire.OpRestart, good.Ref(), Payload{Backend: b})
		e.drain(t)
		if j := e.job(t, badJob); j.State != store.JobFailed || !strings.Contains(j.Error, "acme/prod/bad") || !strings.Contains(j.Error, "cannot be decrypted") {
			t.Errorf("job on the damaged deployment: %s: %s", j.State, j.Error)
		}
		if j := e.job(t, goodJob); j.State != store.JobSucceeded {
			t.Errorf("job on the intact deployment: %s: %s", j.State, j.Error)
		}
	})
}
