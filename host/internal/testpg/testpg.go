// Package testpg starts throwaway PostgreSQL clusters for tests, from
// Debian's postgresql package: a fresh data directory in a temporary
// directory, a free port on 127.0.0.1, removed again when the tests end.
// "make test" installs the package when it is missing.
package testpg

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
)

// Cluster is a running throwaway cluster.
type Cluster struct {
	dir  string
	bin  string
	port int
	cmd  *exec.Cmd
	seq  atomic.Int64
}

// binDir finds the server binaries of Debian's package.
func binDir() (string, error) {
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(matches) == 0 {
		return "", errors.New("the PostgreSQL server is not installed (apt-get install postgresql)")
	}
	return filepath.Dir(matches[len(matches)-1]), nil
}

// asPostgres runs cmd as the postgres user when this process is root, since
// PostgreSQL refuses to run as root.
func asPostgres(cmd *exec.Cmd, dir string) error {
	if os.Geteuid() != 0 {
		return nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return fmt.Errorf("running as root needs the postgres user: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err == nil {
			err = os.Chown(p, uid, gid)
		}
		return err
	}); err != nil {
		return err
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
	return nil
}

// Start initializes and starts a cluster tuned for tests (no fsync).
func Start() (*Cluster, error) {
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "testpg-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{dir: dir, bin: bin}
	data := filepath.Join(dir, "data")
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8")
	if err := asPostgres(initdb, dir); err != nil {
		c.remove()
		return nil, err
	}
	if out, err := initdb.CombinedOutput(); err != nil {
		c.remove()
		return nil, fmt.Errorf("initdb: %v\n%s", err, out)
	}
	if c.port, err = freePort(); err != nil {
		c.remove()
		return nil, err
	}
	if err := c.Resume(); err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

// Resume starts the server (again, after Pause) on the cluster's port.
func (c *Cluster) Resume() error {
	c.cmd = exec.Command(filepath.Join(c.bin, "postgres"), "-D", filepath.Join(c.dir, "data"), "-p", strconv.Itoa(c.port), "-k", c.dir,
		"-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "full_page_writes=off", "-c", "synchronous_commit=off",
		"-c", "max_connections=200")
	c.cmd.Stderr, _ = os.OpenFile(filepath.Join(c.dir, "postgres.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err := asPostgres(c.cmd, c.dir); err != nil {
		return err
	}
	if err := c.cmd.Start(); err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	return c.waitReady(30 * time.Second)
}

// Pause stops the server, keeping its data, as a database outage would.
func (c *Cluster) Pause() {
	if c.cmd == nil || c.cmd.Process == nil {
		return
	}
	c.cmd.Process.Signal(syscall.SIGINT) // fast shutdown: clients are disconnected
	done := make(chan struct{})
	go func() { c.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		c.cmd.Process.Kill()
		<-done
	}
	c.cmd = nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (c *Cluster) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		db, err := sql.Open("pgx", c.url("postgres"))
		if err == nil {
			err = db.Ping()
			db.Close()
		}
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(c.dir, "postgres.log"))
			return fmt.Errorf("postgres did not accept connections within %s: %v\n%s", timeout, err, log)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (c *Cluster) url(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.port, db)
}

// NewDatabase creates an empty database and returns its URL.
func (c *Cluster) NewDatabase(ctx context.Context) (string, error) {
	name := fmt.Sprintf("t%d", c.seq.Add(1))
	db, err := sql.Open("pgx", c.url("postgres"))
	if err != nil {
		return "", err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		return "", fmt.Errorf("create database: %w", err)
	}
	return c.url(name), nil
}

// Stop shuts the cluster down and removes its files.
func (c *Cluster) Stop() {
	c.Pause()
	c.remove()
}

func (c *Cluster) remove() { os.RemoveAll(c.dir) }

// Need fails the test when c could not start (startErr) and CI=true, and
// skips it, saying why, elsewhere.
func Need(t testing.TB, c *Cluster, startErr error) {
	t.Helper()
	if c != nil {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("PostgreSQL is needed and CI=true: %v", startErr)
	}
	t.Skipf("no PostgreSQL: %v", startErr)
}

// Database is Need, then a new database's URL.
func Database(t testing.TB, c *Cluster, startErr error) string {
	t.Helper()
	Need(t, c, startErr)
	url, err := c.NewDatabase(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return url
}

// shared is the cluster Main starts for a package's tests, or why it did
// not start.
var shared struct {
	cluster *Cluster
	err     error
}

// Main is the TestMain of a package whose tests use PostgreSQL:
//
//	func TestMain(m *testing.M) { testpg.Main(m, setup) }
//
// It runs setup (when not nil) with a temporary directory for what else
// the tests need (plugin binaries...), starts the shared cluster, runs the
// tests, stops the cluster, removes the directory and exits with the
// tests' code. A setup error ends the run with exit 1. When the cluster
// cannot start, the tests that ask for it with Shared or SharedDatabase
// fail under CI=true and skip, saying why, elsewhere.
func Main(m *testing.M, setup func(tmp string) error) {
	os.Exit(runMain(m, setup))
}

func runMain(m *testing.M, setup func(tmp string) error) int {
	tmp, err := os.MkdirTemp("", "testpg-main-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmp)
	if setup != nil {
		if err := setup(tmp); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	shared.cluster, shared.err = Start()
	if shared.cluster != nil {
		defer shared.cluster.Stop()
	}
	return m.Run()
}

// Shared is the cluster Main started, after Need.
func Shared(t testing.TB) *Cluster {
	t.Helper()
	Need(t, shared.cluster, shared.err)
	return shared.cluster
}

// SharedDatabase is a new database's URL on the cluster Main started,
// after Need.
func SharedDatabase(t testing.TB) string {
	t.Helper()
	return Database(t, shared.cluster, shared.err)
}
