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
	"github.com/alphaswarm/controller/host/internal/jobs"
	"github.com/alphaswarm/controller/host/internal/pluginmgr"
	"github.com/alphaswarm/controller/host/internal/store"
)

// Config configures a daemon.
type Config struct {
	Store   store.Config
	Plugins pluginmgr.Config
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
	// Grace bounds how long shutdown waits for running jobs (default 30s).
	Grace  time.Duration
	Logger hclog.Logger
}

// Daemon is a running host.
type Daemon struct {
	cfg    Config
	store  *store.Store
	opened atomic.Pointer[store.Store]  // for the health handler, set once the store is open
	api    atomic.Pointer[http.Handler] // the API, once the store is open
	server *http.Server
	addr   net.Addr
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
	d.server = &http.Server{Handler: d.routes(), ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 2 * time.Minute}
	go d.server.Serve(lis)
	defer d.shutdown()
	if ready != nil {
		ready(d.addr)
	}
	s, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	d.store = s
	d.opened.Store(s)
	defer s.Close()
	plugins := pluginmgr.New(cfg.Plugins)
	defer plugins.Close()
	d.serveAPI(plugins)
	err = d.work(ctx, plugins)
	d.shutdown() // before the plugins and the store close under running requests
	return err
}

// serveAPI switches the listener from health checks alone to the API.
func (d *Daemon) serveAPI(plugins *pluginmgr.Manager) {
	if d.cfg.Verifier == nil {
		d.cfg.Logger.Warn("no token issuer is configured: the API is off, only health checks answer")
		return
	}
	h := api.New(api.Config{Store: d.store, Plugins: plugins, Verifier: d.cfg.Verifier, Logger: d.cfg.Logger.Named("api"),
		Ready: func(ctx context.Context) error { return d.store.Ping(ctx) }}).Handler()
	d.api.Store(&h)
}

// shutdown stops accepting requests and lets running ones (log follows,
// exec sessions, event streams) end within a few seconds.
func (d *Daemon) shutdown() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := d.server.Shutdown(ctx); err != nil {
		d.server.Close()
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

func (d *Daemon) work(ctx context.Context, plugins *pluginmgr.Manager) error {
	work, stopWork := context.WithCancel(context.Background())
	defer stopWork()
	exec := &jobs.Executor{Store: d.store, Plugins: plugins, Secrets: d.cfg.Secrets}
	var wg sync.WaitGroup
	for i := range d.cfg.Workers {
		w := &jobs.Worker{Store: d.store, Runner: exec, Owner: fmt.Sprintf("%s/%d", d.cfg.ID, i), Lease: d.cfg.Lease, Logger: d.cfg.Logger.Named("worker")}
		wg.Go(func() { w.Run(ctx, work) })
	}
	d.cfg.Logger.Info("host serving", "id", d.cfg.ID, "workers", d.cfg.Workers, "store", d.store.Dialect(), "listen", d.addr.String())
	<-ctx.Done()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(d.cfg.Grace):
		d.cfg.Logger.Warn("running jobs did not finish within the grace period; stopping them", "grace", d.cfg.Grace)
		stopWork()
		<-done
	}
	return nil
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
		s := d.opened.Load()
		switch {
		case s == nil:
			http.Error(w, "not ready: the store is not open yet", http.StatusServiceUnavailable)
		case s.Ping(ctx) != nil:
			http.Error(w, "not ready: the database does not answer", http.StatusServiceUnavailable)
		default:
			fmt.Fprintln(w, "ready")
		}
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, `{"type":"about:blank","title":"Service Unavailable","status":503,"detail":"the API is not serving: the store is not open yet, or no token issuer is configured (ALPHASWARM_ISSUER_URL)"}`)
	})
	return mux
}
