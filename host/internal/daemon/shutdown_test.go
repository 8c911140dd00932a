package daemon

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/alphaswarm/controller/host/internal/api/wire"
	"github.com/alphaswarm/controller/host/internal/jobs"
	"github.com/alphaswarm/controller/host/internal/store"
	"github.com/alphaswarm/controller/host/internal/testpg"
)

// readyz returns the host's /readyz status and body.
func (h *host) readyz() (int, string) {
	resp, err := http.Get("http://" + h.addr + "/readyz")
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// terminate sends SIGTERM and waits for the host to exit; it fails the
// test if the host is still up after within.
func (h *host) terminate(t *testing.T, within time.Duration) {
	t.Helper()
	if err := h.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-h.done:
	case <-time.After(within):
		t.Fatalf("host %s still runs %s after SIGTERM", h.id, within)
	}
	if code := h.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("host %s exited with %d after SIGTERM", h.id, code)
	}
}

// TestSIGTERMEndsAHostWhoseJobHangs stops a host whose job hangs in its
// plugin: the host exits within its grace period, and the job is queued
// to run again rather than failed.
func TestSIGTERMEndsAHostWhoseJobHangs(t *testing.T) {
	t.Parallel()
	d := sqliteDB(t)
	s := d.open(t)
	spec := shop("hangs")
	id := enqueue(t, s, wire.OpApply, spec.Ref(), jobs.Payload{Backend: faulty(`{"fault": [{"op": "apply", "kind": "hang"}]}`), Spec: &spec})
	h := startHost(t, d, "hangs", "-grace", "2s", "-workers", "1")
	waitFor(t, "the job runs", 20*time.Second, func() bool { return jobState(t, s, id).State == store.JobRunning })
	h.terminate(t, 15*time.Second)
	if j := jobState(t, s, id); j.State != store.JobQueued || j.Attempts != 1 {
		t.Errorf("the hanging job after shutdown: %s after %d attempt(s): %s", j.State, j.Attempts, j.Error)
	}
}

// TestReadyzReportsABlockedWorker blocks the job queue's table on
// PostgreSQL under a host: /readyz turns 503 naming the blocked worker
// while the database still answers pings, turns 200 again once the table
// is free, and SIGTERM ends the host while it is blocked.
func TestReadyzReportsABlockedWorker(t *testing.T) {
	t.Parallel()
	needPostgres(t)
	d := postgresDB(t, testpg.Shared(t))
	d.open(t) // migrated before the host starts
	h := startHost(t, d, "blocked", "-lease", "1s", "-workers", "1", "-grace", "2s")
	waitFor(t, "the host is ready", 20*time.Second, func() bool { return h.ready() == http.StatusOK })
	db, err := sql.Open("pgx", d.cfg.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	lockJobs := func() *sql.Tx {
		t.Helper()
		tx, err := db.BeginTx(context.Background(), nil)
		if err == nil {
			_, err = tx.Exec(`LOCK TABLE jobs IN ACCESS EXCLUSIVE MODE`)
		}
		if err != nil {
			t.Fatal(err)
		}
		return tx
	}
	tx := lockJobs()
	var body string
	waitFor(t, "/readyz reports the blocked worker", 20*time.Second, func() bool {
		var code int
		code, body = h.readyz()
		return code == http.StatusServiceUnavailable
	})
	if !strings.Contains(body, "job worker blocked/0 has made no progress") {
		t.Errorf("/readyz while the worker is blocked: %s", body)
	}
	tx.Rollback()
	waitFor(t, "the host is ready again", 20*time.Second, func() bool { return h.ready() == http.StatusOK })
	tx = lockJobs()
	defer tx.Rollback()
	h.terminate(t, 15*time.Second)
}

// TestHostKilledLeavesNoPlugin kills a host with SIGKILL, alone and not
// its process group, while its plugin runs a job: the plugin process ends
// too, since a plugin never outlives its host.
func TestHostKilledLeavesNoPlugin(t *testing.T) {
	t.Parallel()
	d := sqliteDB(t)
	s := d.open(t)
	spec := shop("orphan")
	id := enqueue(t, s, wire.OpApply, spec.Ref(), jobs.Payload{Backend: memory(`{"latency": "30s"}`), Spec: &spec})
	h := startHost(t, d, "orphan", "-workers", "1")
	waitFor(t, "the job runs", 20*time.Second, func() bool { return jobState(t, s, id).State == store.JobRunning })
	var plugins []int
	waitFor(t, "the plugin process starts", 10*time.Second, func() bool { plugins = children(t, h.cmd.Process.Pid); return len(plugins) > 0 })
	if err := syscall.Kill(h.cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-h.done
	waitFor(t, "the plugins of the killed host exit", 15*time.Second, func() bool {
		return !slices.ContainsFunc(plugins, alive)
	})
}

// children lists the processes whose parent is pid, from /proc.
func children(t *testing.T, pid int) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var out []int
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ppid, _, ok := procStat(child); ok && ppid == pid {
			out = append(out, child)
		}
	}
	return out
}

// alive reports whether pid runs: it exists and is not a zombie.
func alive(pid int) bool {
	_, state, ok := procStat(pid)
	return ok && state != "Z"
}

// procStat reads a process's parent and state from /proc/<pid>/stat.
func procStat(pid int) (ppid int, state string, ok bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, "", false
	}
	_, rest, found := strings.Cut(string(b), ") ") // the command may hold spaces
	fields := strings.Fields(rest)
	if !found || len(fields) < 2 {
		return 0, "", false
	}
	ppid, err = strconv.Atoi(fields[1])
	return ppid, fields[0], err == nil
}

// TestServerRefusesAConfigurationItCannotUse starts hosts whose
// configuration file is wrong: each exits with the file, line and what
// is wrong, rather than serve tenants a backend it cannot run.
func TestServerRefusesAConfigurationItCannotUse(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct{ src, want string }{
		"malformed":          {"backend \"memory\" {}\n", "host.hcl:1,18-19: Missing name for backend"},
		"a misspelled field": {"backend \"memory\" \"sim\" {\n  config {\n    latncy = \"1s\"\n  }\n}\n", `host.hcl:3,5-11: Unsupported argument: An argument named "latncy" is not expected here`},
		"a value the plugin refuses, beside a credential it is not given": {
			"backend \"memory\" \"sim\" {\n  config {\n    node_name = credential(\"sim/node\")\n    latency = \"soon\"\n  }\n}\n",
			`host.hcl:4,15-21: Invalid backend configuration: The memory plugin rejects latency: "soon" is not a duration`},
	} {
		config := filepath.Join(t.TempDir(), "host.hcl")
		if err := os.WriteFile(config, []byte(tc.src), 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(swarmctl, "server", "-listen", "127.0.0.1:0", "-plugin-dir", pluginDir, "-data-dir", t.TempDir(),
			"-lock-file", filepath.Join(t.TempDir(), "none.hcl"), "-config", config)
		cmd.Env = []string{"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH")}
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), tc.want) {
			t.Errorf("%s: %v\n%s\nwant %q", name, err, out, tc.want)
		}
	}
}
