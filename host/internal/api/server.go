package api

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"time"
	"unicode/utf8"

	"golang.org/x/time/rate"

	"github.com/gorilla/mux"
	hclog "github.com/hashicorp/go-hclog"

	"github.com/alphaswarm/controller/core/auth"
	"github.com/alphaswarm/controller/host/internal/api/wire"
	"github.com/alphaswarm/controller/host/internal/backends"
	"github.com/alphaswarm/controller/host/internal/pluginmgr"
	"github.com/alphaswarm/controller/host/internal/store"
)

// Config configures the API.
type Config struct {
	Store   *store.Store
	Plugins *pluginmgr.Manager
	// Backends are the backends operators registered, bound to their
	// plugins; tenants deploy to these alone (nil: none).
	Backends *backends.Registry
	Verifier auth.Verifier
	// Ready reports whether the host can serve (store open and answering).
	Ready  func(context.Context) error
	Logger hclog.Logger
	// MaxBodyBytes bounds plan and apply bodies (default 4 MiB); other
	// bodies take at most 64 KiB.
	MaxBodyBytes int64
	// Heartbeat is the interval of keep-alive comments on event streams
	// (default 15s).
	Heartbeat time.Duration
	// BodyTimeout bounds how long reading a request body may take (default
	// 60s), so that a body sent a byte at a time holds nothing for long.
	BodyTimeout time.Duration
}

// Server answers the API.
type Server struct {
	store     *store.Store
	plugins   *pluginmgr.Manager
	registry  *backends.Registry
	verifier  auth.Verifier
	ready     func(context.Context) error
	log       hclog.Logger
	maxBody   int64
	heartbeat time.Duration
	metrics   *metrics
	// bodyTimeout bounds the reading of a body; see Config.BodyTimeout.
	bodyTimeout time.Duration
	// anonymousAudit bounds how many denials of requests without a valid
	// token the audit log records, so that anonymous traffic cannot grow
	// the database without end; the rest are counted in a metric.
	anonymousAudit *rate.Limiter
	// evaluations holds a slot per topology being loaded, so that the
	// memory and cores that evaluation takes stay bounded however many
	// plans arrive at once.
	evaluations chan struct{}
}

// The bounds on what a request can make the host keep or read.
const (
	// maxURIBytes bounds a request's path and query: longer ones answer 414
	// before routing, authentication or audit.
	maxURIBytes = 4 << 10
	// maxAuditText bounds each text an audit entry keeps of a request.
	maxAuditText = 256
)

// smallBody bounds the bodies of runtime operations.
const smallBody = 64 << 10

// New returns a server for cfg.
func New(cfg Config) *Server {
	s := &Server{store: cfg.Store, plugins: cfg.Plugins, registry: cfg.Backends, verifier: cfg.Verifier, ready: cfg.Ready,
		log: cfg.Logger, maxBody: cfg.MaxBodyBytes, heartbeat: cfg.Heartbeat, bodyTimeout: cfg.BodyTimeout,
		anonymousAudit: rate.NewLimiter(10, 100), evaluations: make(chan struct{}, max(2, runtime.NumCPU()))}
	if s.bodyTimeout <= 0 {
		s.bodyTimeout = time.Minute
	}
	if s.log == nil {
		s.log = hclog.NewNullLogger()
	}
	if s.registry == nil {
		s.registry = backends.New(nil)
	}
	if s.maxBody <= 0 {
		s.maxBody = 4 << 20
	}
	if s.heartbeat <= 0 {
		s.heartbeat = 15 * time.Second
	}
	s.metrics = newMetrics(cfg.Plugins, cfg.Store)
	return s
}

// Handler returns the routes.
func (s *Server) Handler() http.Handler {
	r := mux.NewRouter()
	noRoute := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		s.fail(w, req, notFound("no route %s %s", req.Method, req.URL.Path))
	})
	wrongMethod := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		s.fail(w, req, &apiError{status: http.StatusMethodNotAllowed, detail: req.Method + " is not allowed on " + req.URL.Path})
	})
	r.NotFoundHandler, r.MethodNotAllowedHandler = noRoute, wrongMethod
	r.Use(limitURI, withRequestID, s.observe)
	r.HandleFunc("/healthz", s.healthz).Methods(http.MethodGet)
	r.HandleFunc("/readyz", s.readyz).Methods(http.MethodGet)
	r.Handle("/metrics", s.metrics.handler()).Methods(http.MethodGet)
	r.HandleFunc("/v1/openapi.json", serveOpenAPI).Methods(http.MethodGet)

	// Not a subrouter: gorilla/mux answers 404 instead of 405 for a
	// method mismatch inside one.
	v1 := func(path string, h http.HandlerFunc, method string) {
		r.Handle("/v1"+path, s.authenticate(h)).Methods(method)
	}
	v1("/"+string(wire.OpPlan), s.plan, http.MethodPost)
	v1("/"+string(wire.OpApply), s.apply, http.MethodPost)
	v1("/deployments", s.listDeployments, http.MethodGet)
	d := "/deployments/{tenant}/{name}"
	v1(d, s.getDeployment, http.MethodGet)
	for _, op := range wire.RuntimeOps {
		v1(d+"/"+string(op), s.operation(op), http.MethodPost)
	}
	v1(d+"/"+string(wire.OpRollback), s.rollback, http.MethodPost)
	v1(d+"/services/{service}/"+string(wire.OpLogs), s.logs, http.MethodGet)
	v1(d+"/services/{service}/"+string(wire.OpExec), s.exec, http.MethodGet)
	v1(d+"/metrics", s.deploymentMetrics, http.MethodGet)
	v1("/nodes", s.nodes, http.MethodGet)
	v1("/jobs/{id}", s.getJob, http.MethodGet)
	v1("/jobs/{id}/events", s.jobEvents, http.MethodGet)
	v1("/backends", s.backends, http.MethodGet)
	v1("/audit", s.auditLog, http.MethodGet)
	return r
}

// limitURI answers 414 to a request whose path and query exceed
// maxURIBytes, before anything else looks at it. (A path no route matches
// answers 404 without it, and without an audit entry either.)
func limitURI(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.RequestURI) > maxURIBytes {
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusRequestURITooLong)
			fmt.Fprintf(w, `{"type":"about:blank","title":"URI Too Long","status":414,"detail":"the request's path and query exceed %d bytes"}`+"\n", maxURIBytes)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ok\n"))
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), time.Second)
	defer cancel()
	if s.ready != nil {
		if err := s.ready(ctx); err != nil {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte("not ready: " + err.Error() + "\n"))
			return
		}
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ready\n"))
}

// clip shortens a text a request chose to maxAuditText bytes, on a rune
// boundary, marking the cut.
func clip(s string) string {
	if len(s) <= maxAuditText {
		return s
	}
	cut := maxAuditText
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// audit records a decision; a failure to record is logged, not hidden.
func (s *Server) audit(r *http.Request, p *auth.Principal, action, target, tenant, decision, reason string) {
	actor := "anonymous"
	if p != nil {
		actor, tenant = p.Subject, p.Tenant
	}
	err := s.store.AppendAudit(context.WithoutCancel(r.Context()), store.AuditEntry{
		Actor: actor, Tenant: clip(tenant), Action: action, Target: clip(target), Decision: decision, Reason: clip(reason), RequestID: requestID(r.Context()),
	})
	if err != nil {
		s.log.Error("audit entry lost", "request_id", requestID(r.Context()), "action", action, "error", err)
	}
}
