// Package daemon is the host process, "swarmctl server": it opens the
// store, runs job workers against the backend plugins, and answers health
// checks. Several daemons on one PostgreSQL share the work; the job
// queue's leases keep a job from running on two of them at once. The HTTP
// API behind the UI builds on it.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	hclog "github.com/hashicorp/go-hclog"

	"github.com/alphaswarm/controller/core/auth"
	"github.com/alphaswarm/controller/core/credentials"
	"github.com/alphaswarm/controller/host/internal/api"
	"github.com/alphaswarm/controller/host/internal/backends"
	"github.com/alphaswarm/controller/host/internal/jobs"
	"github.com/alphaswarm/controller/host/internal/pluginmgr"
	"github.com/alphaswarm/controller/host/internal/store"
)

// Config configures a daemon.
type Config struct {
	Store   store.Config
	Plugins pluginmgr.Config
	// Backends are the backends operators registered; Run binds them to
	// their plugins and refuses to start when one does not fit.
	Backends *backends.Registry
	// ID names this host in job leases; unique per running host.
	ID string
	// Workers is how many jobs the host runs at once (default 4).
	Workers int
	// Lease is the job lease (default 30s).
	Lease time.Duration
	// Listen is the address of the API and of /healthz, /readyz, /metrics.
	Listen string
	// Verifier checks API access tokens; without one the /v1 routes answer
	// 503 and only the health endpoints serve.
	Verifier auth.Verifier
	// Secrets resolves secret references at apply time; may be nil.
	Secrets *credentials.Resolver
	// Grace bounds the whole shutdown once ctx ends (default 30s): running
	// jobs get most of it, then are cancelled (they run again later, on
	// this host or another); open requests and plugins get what is left.
	// Whatever is still stuck then is abandoned and Run returns.
	Grace  time.Duration
	Logger hclog.Logger
}

// Daemon is a running host.
type Daemon struct {
	cfg     Config
	store   *store.Store
	plugins *pluginmgr.Manager
	workers []*jobs.Worker
	opened  atomic.Pointer[store.Store]  // for the health handler, set once the store is open
	api     atomic.Pointer[http.Handler] // the API, once the store is open
	server  *http.Server
	addr    net.Addr
}

// Run opens the store (waiting for the database while it is away), serves
// health checks, and runs workers until ctx ends; then it stops claiming,
// lets running jobs finish within the grace period, and stops its plugins.
func Run(ctx context.Context, cfg Config, ready func(addr net.Addr)) error {
	if cfg.Workers <= 0 {
		cfg.Workers = 4
	}
	if cfg.Grace <= 0 {
		cfg.Grace = 30 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = hclog.NewNullLogger()
	}
	d := &Daemon{cfg: cfg}
	lis, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	d.addr = lis.Addr()
	d.server = &http.Server{Handler: d.routes(), ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10}
	go d.server.Serve(lis)
	defer d.server.Close() // when the store never opened; stop has shut it down otherwise
	if ready != nil {
		ready(d.addr)
	}
	s, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	d.store = s
	d.releaseOwnLeases()
	d.plugins = pluginmgr.New(cfg.Plugins)
	if err := bind(ctx, cfg.Backends, d.plugins); err != nil {
		d.plugins.Close()
		s.Close()
		return err
	}
	d.workers = d.newWorkers()
	d.opened.Store(s) // publishes the store, plugins and workers to the health handler
	d.serveAPI()
	d.stop(d.work(ctx))
	return nil
}

// releaseOwnLeases lets the jobs an earlier process of this host left
// running run again at once. Only on SQLite, which one host uses alone;
// on PostgreSQL another host may hold them, so they wait for their leases.
func (d *Daemon) releaseOwnLeases() {
	if d.store.Dialect() != "sqlite" {
		return
	}
	n, err := d.store.ReleaseLeases(context.Background())
	switch {
	case err != nil:
		d.cfg.Logger.Warn("jobs left running by an earlier process wait for their leases to expire", "error", err)
	case n > 0:
		d.cfg.Logger.Warn("jobs left running by an earlier process of this host run again now", "jobs", n)
	}
}

// bind checks the registered backends against their plugins.
func bind(ctx context.Context, reg *backends.Registry, plugins *pluginmgr.Manager) error {
	if err := backends.DiagnosticsError(reg.Bind(ctx, plugins)); err != nil {
		return fmt.Errorf("the host configuration registers backends this host cannot use:\n%w", err)
	}
	return nil
}

// newWorkers makes the job workers, which work runs.
func (d *Daemon) newWorkers() []*jobs.Worker {
	exec := &jobs.Executor{Store: d.store, Plugins: d.plugins, Backends: d.cfg.Backends, Secrets: d.cfg.Secrets}
	out := make([]*jobs.Worker, d.cfg.Workers)
	for i := range out {
		out[i] = &jobs.Worker{Store: d.store, Runner: exec, Owner: fmt.Sprintf("%s/%d", d.cfg.ID, i), Lease: d.cfg.Lease, Logger: d.cfg.Logger.Named("worker")}
	}
	return out
}

// ready says whether the host can do its work: the database answers, the
// plugin manager is not stuck, and no job worker is blocked.
func (d *Daemon) ready(ctx context.Context) error {
	if err := d.store.Ping(ctx); err != nil {
		return fmt.Errorf("the database does not answer: %w", err)
	}
	if err := d.plugins.Check(ctx); err != nil {
		return err
	}
	now := time.Now()
	for _, w := range d.workers {
		if err := w.Check(now); err != nil {
			return err
		}
	}
	return nil
}

// serveAPI switches the listener from health checks alone to the API.
func (d *Daemon) serveAPI() {
	if d.cfg.Verifier == nil {
		d.cfg.Logger.Warn("no token issuer is configured: the API is off, only health checks answer")
		return
	}
	h := api.New(api.Config{Store: d.store, Plugins: d.plugins, Backends: d.cfg.Backends, Verifier: d.cfg.Verifier, Logger: d.cfg.Logger.Named("api"),
		Ready: d.ready}).Handler()
	d.api.Store(&h)
}

// stop ends what work left running by deadline: open requests (log
// follows, exec sessions, event streams) are asked to end, then the
// plugins and the store close; whatever does not finish in time is
// abandoned, so a stuck request or plugin never keeps the host up.
func (d *Daemon) stop(deadline time.Time) {
	ctx, cancel := context.WithDeadline(context.Background(), deadline.Add(-time.Second))
	defer cancel()
	if err := d.server.Shutdown(ctx); err != nil {
		d.server.Close()
	}
	closed := make(chan struct{})
	go func() {
		defer close(closed)
		d.plugins.Close()
		d.store.Close()
	}()
	select {
	case <-closed:
	case <-time.After(max(time.Until(deadline), 100*time.Millisecond)):
		d.cfg.Logger.Error("plugins or the store did not close within the grace period; exiting without them")
	}
}

// openStore retries until the database answers or ctx ends; the host is
// not ready meanwhile.
func openStore(ctx context.Context, cfg Config) (*store.Store, error) {
	for delay := 500 * time.Millisecond; ; delay = min(delay*2, 10*time.Second) {
		s, err := store.Open(ctx, cfg.Store)
		if err == nil {
			return s, nil
		}
		var tooNew *store.ErrSchemaTooNew
		if errors.As(err, &tooNew) || ctx.Err() != nil {
			return nil, err
		}
		cfg.Logger.Warn("store unavailable; retrying", "error", err, "in", delay)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(delay):
		}
	}
}

// work runs the workers until ctx ends. Then it stops claiming and gives
// running jobs the grace period, less a share kept for the rest of the
// shutdown; jobs still running are cancelled, and workers that do not
// return even then are abandoned. It returns the end of the grace period.
func (d *Daemon) work(ctx context.Context) time.Time {
	work, stopWork := context.WithCancel(context.Background())
	defer stopWork()
	var wg sync.WaitGroup
	for _, w := range d.workers {
		wg.Go(func() { w.Run(ctx, work) })
	}
	d.cfg.Logger.Info("host serving", "id", d.cfg.ID, "workers", d.cfg.Workers, "store", d.store.Dialect(), "listen", d.addr.String())
	<-ctx.Done()
	deadline := time.Now().Add(d.cfg.Grace)
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	if waitUntil(done, deadline.Add(-shutdownReserve(d.cfg.Grace))) {
		return deadline
	}
	d.cfg.Logger.Warn("running jobs did not finish within the grace period; cancelling them (they run again later)", "grace", d.cfg.Grace)
	stopWork()
	if !waitUntil(done, deadline.Add(-shutdownReserve(d.cfg.Grace)/2)) {
		d.cfg.Logger.Error("job workers did not stop once cancelled; exiting without them")
	}
	return deadline
}

// shutdownReserve is the part of the grace period kept for cancelled jobs
// to stop, requests to end and plugins to close: a quarter, up to 5s.
func shutdownReserve(grace time.Duration) time.Duration { return min(grace/4, 5*time.Second) }

// waitUntil reports whether done closed before deadline.
func waitUntil(done <-chan struct{}, deadline time.Time) bool {
	t := time.NewTimer(max(time.Until(deadline), 0))
	defer t.Stop()
	select {
	case <-done:
		return true
	case <-t.C:
		return false
	}
}

func (d *Daemon) routes() http.Handler {
	health := d.healthRoutes()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h := d.api.Load(); h != nil {
			(*h).ServeHTTP(w, r)
			return
		}
		health.ServeHTTP(w, r)
	})
}

// healthRoutes answer while the API is not up: before the store opens,
// or when no issuer is configured.
func (d *Daemon) healthRoutes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), time.Second)
		defer cancel()
		if d.opened.Load() == nil {
			http.Error(w, "not ready: the store is not open yet", http.StatusServiceUnavailable)
			return
		}
		if err := d.ready(ctx); err != nil {
			http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, `{"type":"about:blank","title":"Service Unavailable","status":503,"detail":"the API is not serving: the store is not open yet, or no token issuer is configured (ALPHASWARM_ISSUER_URL)"}`)
	})
	return mux
}
