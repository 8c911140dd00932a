package daemon

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/host/internal/api/wire"
	"github.com/alphaswarm/controller/host/internal/backends"
	"github.com/alphaswarm/controller/host/internal/jobs"
	"github.com/alphaswarm/controller/host/internal/store"
	"github.com/alphaswarm/controller/host/internal/testbin"
	"github.com/alphaswarm/controller/host/internal/testpg"
)

// These tests run real hosts: swarmctl server processes, killed with
// SIGKILL, sharing a real SQLite file or PostgreSQL cluster with the test,
// which queues jobs and reads the outcome from the store.

var swarmctl, pluginDir string

const stateKey = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="

func TestMain(m *testing.M) {
	testpg.Main(m, func(tmp string) (err error) {
		if pluginDir, err = testbin.PluginDir(tmp, false); err != nil {
			return err
		}
		if err = testbin.Build(testbin.FaultyPlugin, filepath.Join(pluginDir, "swarm-backend-faulty")); err != nil {
			return err
		}
		swarmctl = filepath.Join(tmp, "swarmctl")
		return testbin.Build("github.com/alphaswarm/controller/host/cmd/swarmctl", swarmctl)
	})
}

func needPostgres(t *testing.T) {
	t.Helper()
	testpg.Shared(t)
}

// db is where a test's hosts keep their state.
type db struct {
	cfg  store.Config
	args []string // swarmctl server flags
	env  []string
}

func sqliteDB(t *testing.T) db {
	dir := t.TempDir()
	return db{cfg: store.Config{DataDir: dir}, args: []string{"-data-dir", dir}}
}

func postgresDB(t *testing.T, c *testpg.Cluster) db {
	url, err := c.NewDatabase(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return db{cfg: store.Config{DatabaseURL: url, StateKeys: []string{stateKey}},
		args: []string{"-database-url", url}, env: []string{"ALPHASWARM_STATE_KEYS=" + stateKey}}
}

func (d db) open(t *testing.T) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), d.cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// host is a running swarmctl server process, in its own process group so
// that killing it kills its plugins too, as a machine crash would.
type host struct {
	id   string
	cmd  *exec.Cmd
	addr string
	done chan struct{}
}

func startHost(t *testing.T, d db, id string, extra ...string) *host {
	t.Helper()
	config := filepath.Join(t.TempDir(), "host.hcl")
	if err := os.WriteFile(config, []byte(backends.ForEveryone("memory.sim", "faulty.sim")), 0o600); err != nil {
		t.Fatal(err)
	}
	args := append([]string{"server", "-id", id, "-listen", "127.0.0.1:0", "-plugin-dir", pluginDir,
		"-lock-file", filepath.Join(t.TempDir(), "none.hcl"), "-config", config}, d.args...)
	cmd := exec.Command(swarmctl, append(args, extra...)...)
	cmd.Env = append([]string{"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH")}, d.env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, _ := cmd.StdoutPipe()
	logs, err := os.Create(filepath.Join(t.TempDir(), id+".log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	h := &host{id: id, cmd: cmd, done: make(chan struct{})}
	go func() { cmd.Wait(); close(h.done) }()
	t.Cleanup(func() { h.kill() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if addr, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on "); ok {
		h.addr = addr
	} else {
		log, _ := os.ReadFile(logs.Name())
		t.Fatalf("host %s did not start: %q %v\n%s", id, line, err, log)
	}
	return h
}

// kill sends SIGKILL to the host and its plugins.
func (h *host) kill() {
	syscall.Kill(-h.cmd.Process.Pid, syscall.SIGKILL)
	<-h.done
}

func (h *host) ready() int {
	resp, err := http.Get("http://" + h.addr + "/readyz")
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

func memory(config string) jobs.Backend {
	return jobs.Backend{Type: "memory", Name: "sim", Config: json.RawMessage(config)}
}

// faulty is the memory backend with the faults that config's fault blocks
// describe (examples/internal/faulty).
func faulty(config string) jobs.Backend {
	return jobs.Backend{Type: "faulty", Name: "sim", Config: json.RawMessage(config)}
}

func shop(name string) core.DeploymentSpec {
	return core.DeploymentSpec{Tenant: "acme", Environment: "prod", Name: name,
		Services: []core.ServiceSpec{{Name: "web", Image: "web:1", Replicas: 2}}}
}

func enqueue(t *testing.T, s *store.Store, kind wire.Op, ref core.DeploymentRef, p jobs.Payload) int64 {
	t.Helper()
	id, err := s.Enqueue(context.Background(), store.NewJob{Deployment: ref, Kind: string(kind), Payload: p, CreatedBy: "test", MaxAttempts: 5})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func waitFor(t *testing.T, what string, timeout time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not so within %s", what, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func jobState(t *testing.T, s *store.Store, id int64) *store.Job {
	t.Helper()
	j, err := s.Job(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// TestHostKilledMidApplyResumes kills a host with SIGKILL while its apply
// runs; a host started again on the same state claims the job once the
// dead host's lease expires, and completes it.
func TestHostKilledMidApplyResumes(t *testing.T) {
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			d := sqliteDB(t)
			if kind == "postgres" {
				needPostgres(t)
				d = postgresDB(t, testpg.Shared(t))
			}
			s := d.open(t)
			spec := shop("resume")
			id := enqueue(t, s, wire.OpApply, spec.Ref(), jobs.Payload{Backend: memory(`{"latency": "3s"}`), Spec: &spec})
			first := startHost(t, d, "first", "-lease", "2s", "-workers", "1")
			waitFor(t, "the first host claims the job", 20*time.Second, func() bool { return jobState(t, s, id).State == store.JobRunning })
			time.Sleep(500 * time.Millisecond)
			first.kill()
			if j := jobState(t, s, id); j.State != store.JobRunning || j.Attempts != 1 {
				t.Fatalf("after the kill: %s, %d attempts", j.State, j.Attempts)
			}
			startHost(t, d, "second", "-lease", "2s", "-workers", "1")
			waitFor(t, "the job completes", 60*time.Second, func() bool { return jobState(t, s, id).State == store.JobSucceeded })
			if j := jobState(t, s, id); j.Attempts != 2 {
				t.Errorf("the job took %d attempts, want 2 (one per host)", j.Attempts)
			}
			dep, err := s.Deployment(context.Background(), spec.Ref())
			if err != nil || dep.Revision != 1 || dep.Status == nil || dep.Status.Health != core.HealthReady {
				t.Errorf("deployment after recovery: %+v, %v", dep, err)
			}
		})
	}
}

// TestTwoHostsShareTheWork runs 200 jobs over 20 deployments on two hosts
// sharing PostgreSQL. The store shows that every job ran exactly once (one
// attempt, and one "claimed by" event, written by the host that claimed it)
// and that a deployment's jobs ran one after another in queue order (each
// started after the previous one finished).
func TestTwoHostsShareTheWork(t *testing.T) {
	needPostgres(t)
	d := postgresDB(t, testpg.Shared(t))
	s := d.open(t)
	b := memory(`{"latency": "5ms"}`)
	var ids []int64
	kinds := []wire.Op{wire.OpRestart, wire.OpScale, wire.OpStop, wire.OpStart, wire.OpApply}
	for i := range 20 {
		spec := shop(fmt.Sprintf("shop-%02d", i))
		ids = append(ids, enqueue(t, s, wire.OpApply, spec.Ref(), jobs.Payload{Backend: b, Spec: &spec}))
		for j := range 9 {
			ids = append(ids, enqueue(t, s, kinds[j%len(kinds)], spec.Ref(), jobs.Payload{Backend: b, Spec: &spec, Service: "web", Replicas: 1 + j%3}))
		}
	}
	startHost(t, d, "host-a", "-workers", "4", "-lease", "10s")
	startHost(t, d, "host-b", "-workers", "4", "-lease", "10s")
	waitFor(t, "all 200 jobs finish", 3*time.Minute, func() bool {
		for _, id := range ids {
			if st := jobState(t, s, id).State; st == store.JobQueued || st == store.JobRunning {
				return false
			}
		}
		return true
	})
	hosts := map[string]int{}
	byDeployment := map[core.DeploymentRef][]*store.Job{}
	for _, id := range ids {
		j := jobState(t, s, id)
		if j.State != store.JobSucceeded || j.Attempts != 1 {
			t.Errorf("job %d (%s of %s): %s after %d attempts: %s", id, j.Kind, j.Deployment, j.State, j.Attempts, j.Error)
		}
		events, _, _ := s.Events(context.Background(), id, 0)
		claims := 0
		for _, e := range events {
			if owner, ok := strings.CutPrefix(e.Message, "claimed by "); ok {
				claims++
				hosts[strings.SplitN(owner, "/", 2)[0]]++
			}
		}
		if claims != 1 {
			t.Errorf("job %d was claimed %d times", id, claims)
		}
		byDeployment[j.Deployment] = append(byDeployment[j.Deployment], j)
	}
	for ref, js := range byDeployment {
		slices.SortFunc(js, func(a, b *store.Job) int { return int(a.ID - b.ID) })
		for i := 1; i < len(js); i++ {
			if js[i].Started.Before(js[i-1].Finished) {
				t.Errorf("%s: job %d started at %s, before job %d finished at %s", ref, js[i].ID, js[i].Started, js[i-1].ID, js[i-1].Finished)
			}
		}
	}
	if len(hosts) != 2 || hosts["host-a"] == 0 || hosts["host-b"] == 0 {
		t.Errorf("jobs per host: %v; want both hosts working", hosts)
	}
	t.Logf("jobs per host: %v", hosts)
}

// TestDatabaseAwayThenBack stops PostgreSQL under a busy host: the host
// reports not ready, and when the database returns it becomes ready again
// and every job completes, each deployment recorded whole.
func TestDatabaseAwayThenBack(t *testing.T) {
	needPostgres(t)
	c, err := testpg.Start() // its own cluster: this test takes it down
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	d := postgresDB(t, c)
	s := d.open(t)
	var ids []int64
	var specs []core.DeploymentSpec
	for i := range 6 {
		spec := shop(fmt.Sprintf("db-away-%d", i))
		specs = append(specs, spec)
		ids = append(ids, enqueue(t, s, wire.OpApply, spec.Ref(), jobs.Payload{Backend: memory(`{"latency": "1s"}`), Spec: &spec}))
	}
	h := startHost(t, d, "busy", "-workers", "2", "-lease", "3s")
	waitFor(t, "the host is ready", 20*time.Second, func() bool { return h.ready() == http.StatusOK })
	waitFor(t, "jobs start", 20*time.Second, func() bool { return jobState(t, s, ids[0]).State == store.JobRunning })
	c.Pause()
	waitFor(t, "the host reports not ready", 10*time.Second, func() bool { return h.ready() == http.StatusServiceUnavailable })
	time.Sleep(2 * time.Second)
	if err := c.Resume(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the host is ready again", 20*time.Second, func() bool { return h.ready() == http.StatusOK })
	waitFor(t, "every job finishes", 2*time.Minute, func() bool {
		for _, id := range ids {
			j, err := s.Job(context.Background(), id)
			if err != nil || j.State == store.JobQueued || j.State == store.JobRunning {
				return false
			}
		}
		return true
	})
	for i, id := range ids {
		if j := jobState(t, s, id); j.State != store.JobSucceeded {
			t.Errorf("job %d: %s: %s", id, j.State, j.Error)
		}
		dep, err := s.Deployment(context.Background(), specs[i].Ref())
		if err != nil || dep.Revision < 1 || len(dep.Spec.Services) != 1 || dep.State == nil {
			t.Errorf("deployment %s after the outage: %+v, %v", specs[i].Ref(), dep, err)
		}
	}
}
