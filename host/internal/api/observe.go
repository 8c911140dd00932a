package api

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/core/auth"
	"github.com/alphaswarm/controller/host/internal/api/wire"
	"github.com/alphaswarm/controller/host/internal/store"
	"github.com/alphaswarm/controller/sdk"
	"github.com/alphaswarm/controller/sdk/pluginhost"
)

// maxTail bounds ?tail=.
const maxTail = 100000

// client returns the plugin client of the instance that runs d for its
// tenant, the same instance its jobs use.
func (s *Server) client(ctx context.Context, d *store.Deployment) (*pluginhost.Client, error) {
	b, err := s.deploymentBackend(d)
	if err != nil {
		return nil, err
	}
	cfg, err := s.registry.Instance(ctx, d.Ref.Tenant, b.ID(), b.Config)
	if err != nil {
		s.log.Error("configure a registered backend", "backend", b.ID(), "tenant", d.Ref.Tenant, "error", err)
		return nil, &sdk.UnavailableError{Message: fmt.Sprintf("backend %s cannot be configured on this controller; the operator's log says why", b.ID())}
	}
	inst, err := s.plugins.Start(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return inst.Client(ctx)
}

// serviceTarget is what logs and exec act on: the deployment, the route's
// service, and the client of the plugin that runs it.
type serviceTarget struct {
	d       *store.Deployment
	service string
	c       *pluginhost.Client
}

// target looks up the route's deployment and decides perm, reads the
// operation's query with parse, checks the service, and only then reaches
// the plugin.
func (s *Server) target(r *http.Request, perm auth.Permission, action string, parse func() error) (*serviceTarget, error) {
	d, err := s.lookup(r, perm, action)
	if err != nil {
		return nil, err
	}
	if err := parse(); err != nil {
		return nil, err
	}
	name, err := service(r, d)
	if err != nil {
		return nil, err
	}
	c, err := s.client(r.Context(), d)
	if err != nil {
		return nil, err
	}
	return &serviceTarget{d: d, service: name, c: c}, nil
}

// service checks the route's service against the deployment.
func service(r *http.Request, d *store.Deployment) (string, error) {
	name := mux.Vars(r)["service"]
	if d.Spec.Service(name) == nil {
		return "", notFound("deployment %s has no service %q", d.Ref.Name, name)
	}
	return name, nil
}

// logsQuery reads follow, tail and since.
func logsQuery(r *http.Request) (sdk.LogsRequest, error) {
	q := r.URL.Query()
	var req sdk.LogsRequest
	if v := q.Get("follow"); v != "" {
		f, err := strconv.ParseBool(v)
		if err != nil {
			return req, badRequest("follow", "follow %q is not true or false", v)
		}
		req.Follow = f
	}
	if v := q.Get("tail"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > maxTail {
			return req, badRequest("tail", "tail %q is not a number of lines in 0..%d", v, maxTail)
		}
		req.Tail = n
	}
	if v := q.Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			d, derr := time.ParseDuration(v)
			if derr != nil || d < 0 {
				return req, badRequest("since", "since %q is neither an RFC 3339 time nor a duration such as 10m", v)
			}
			t = time.Now().Add(-d)
		}
		req.Since = t
	}
	return req, nil
}

// logs relays a service's logs: server-sent events ("line", one LogLine
// each) when the client accepts text/event-stream, otherwise plain text
// lines prefixed with the replica, as docker compose logs prints them.
func (s *Server) logs(w http.ResponseWriter, r *http.Request) {
	var req sdk.LogsRequest
	t, err := s.target(r, auth.DeploymentsLogs, wire.OpLogs.AuditAction(), func() (err error) { req, err = logsQuery(r); return err })
	if err != nil {
		s.fail(w, r, err)
		return
	}
	req.Deployment, req.State, req.Service = t.d.Ref, t.d.State, t.service
	send, started := s.logSender(w, r, req.Follow)
	if err := t.c.Logs(r.Context(), &req, send); err != nil && r.Context().Err() == nil {
		if !started() {
			s.fail(w, r, err)
			return
		}
		s.log.Warn("log stream ended", "request_id", requestID(r.Context()), "error", err)
	}
}

// logSender writes each line; a follow flushes each one at once, a
// history read lets the server buffer.
func (s *Server) logSender(w http.ResponseWriter, r *http.Request, follow bool) (sdk.LogSender, func() bool) {
	began := false
	if strings.Contains(r.Header.Get("Accept"), "text/event-stream") {
		var sse *sseWriter
		return func(l sdk.LogLine) error {
			if sse == nil {
				sse, began = startSSE(w), true
				sse.buffered = !follow
			}
			return sse.send(wire.EventLine, "", wire.LogLine{Time: l.Time, Service: l.Service, Replica: l.Replica, Stream: string(l.Stream), Message: l.Message})
		}, func() bool { return began }
	}
	rc := http.NewResponseController(w)
	return func(l sdk.LogLine) error {
		if !began {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Header().Set("X-Content-Type-Options", "nosniff")
			began = true
		}
		if _, err := fmt.Fprintf(w, "%s | %s\n", l.Replica, strings.TrimRight(l.Message, "\n")); err != nil || !follow {
			return err
		}
		return rc.Flush()
	}, func() bool { return began }
}

func (s *Server) deploymentMetrics(w http.ResponseWriter, r *http.Request) {
	d, err := s.lookup(r, auth.DeploymentsRead, "read metrics")
	var c *pluginhost.Client
	if err == nil {
		c, err = s.client(r.Context(), d)
	}
	var resp *sdk.MetricsResponse
	if err == nil {
		resp, err = c.Metrics(r.Context(), &sdk.MetricsRequest{Deployment: d.Ref, State: d.State, Service: r.URL.Query().Get("service")})
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	points := resp.Points
	if points == nil {
		points = []core.MetricPoint{}
	}
	reply(w, http.StatusOK, wire.MetricsResponse{Points: points})
}

// nodes reports the node health of a backend the caller deploys to: it
// runs on the configuration of one of the caller's deployments there.
func (s *Server) nodes(w http.ResponseWriter, r *http.Request) {
	p := principal(r.Context())
	backend := r.URL.Query().Get("backend")
	if err := s.allow(r, p, auth.BackendsRead, "read nodes", backend, p.AuthorizeGlobal(auth.BackendsRead)); err != nil {
		s.fail(w, r, err)
		return
	}
	if backend == "" || len(backend) > 128 {
		s.fail(w, r, badRequest("backend", "backend must name a backend instance such as compose.local"))
		return
	}
	f := p.Filter()
	ds, err := s.store.Deployments(r.Context(), store.Filter{Tenants: f.Tenants, Environments: f.Environments, Backend: backend})
	if err == nil && len(ds) == 0 {
		err = notFound("no deployment of tenant %s runs on backend %s", p.Tenant, backend)
	}
	var c *pluginhost.Client
	if err == nil {
		c, err = s.client(r.Context(), &ds[0])
	}
	var resp *sdk.NodeHealthResponse
	if err == nil {
		resp, err = c.NodeHealth(r.Context(), &sdk.NodeHealthRequest{})
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	nodes := resp.Nodes
	if nodes == nil {
		nodes = []core.NodeHealth{}
	}
	if reg := s.registry.Lookup(backend); reg == nil || !reg.SharedOpenly {
		for i := range nodes {
			nodes[i].Labels = nil // they count every tenant's workloads and name the host's addresses
		}
	}
	reply(w, http.StatusOK, wire.NodesResponse{Backend: backend, Nodes: nodes})
}
