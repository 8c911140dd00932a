package api

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/core/auth"
	"github.com/alphaswarm/controller/host/internal/api/wire"
	"github.com/alphaswarm/controller/host/internal/jobs"
	"github.com/alphaswarm/controller/host/internal/store"
	"github.com/alphaswarm/controller/sdk"
)

// view is a deployment as the API shows it.
func view(d *store.Deployment) wire.Deployment {
	return wire.Deployment{Tenant: d.Ref.Tenant, Environment: d.Ref.Environment, Name: d.Ref.Name, Backend: d.Backend,
		Revision: d.Revision, Incarnation: d.Incarnation, Status: d.Status, DestroyError: d.DestroyError, Created: d.Created, Updated: d.Updated}
}

func (s *Server) listDeployments(w http.ResponseWriter, r *http.Request) {
	p := principal(r.Context())
	if err := s.allow(r, p, auth.DeploymentsRead, "list deployments", "", p.AuthorizeGlobal(auth.DeploymentsRead)); err != nil {
		s.fail(w, r, err)
		return
	}
	f := p.Filter()
	ds, err := s.store.Deployments(r.Context(), store.Filter{Tenants: f.Tenants, Environments: f.Environments})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := []wire.Deployment{}
	for i := range ds {
		out = append(out, view(&ds[i]))
	}
	reply(w, http.StatusOK, wire.DeploymentList{Deployments: out})
}

// lookup finds the deployment a route names and decides perm on it. The
// environment comes from ?environment= or, when the tenant has one
// deployment of that name among the caller's environments, from it.
func (s *Server) lookup(r *http.Request, perm auth.Permission, action string) (*store.Deployment, error) {
	p := principal(r.Context())
	vars := mux.Vars(r)
	tenant, name, env := vars["tenant"], vars["name"], r.URL.Query().Get("environment")
	for field, v := range map[string]string{"tenant": tenant, "name": name} {
		if !core.IsName(v) {
			return nil, badRequest(field, "%s %q is not a valid name: lower-case letters, digits and '-', at most 63", field, v)
		}
	}
	if env != "" && !core.IsName(env) {
		return nil, badRequest("environment", "environment %q is not a valid name", env)
	}
	target := tenant + "/" + name
	hidden := notFound("deployment %s not found", target)
	if tenant != p.Tenant || (env != "" && !p.SeesEnvironment(env)) {
		s.audit(r, p, action, target, tenant, "deny", "not visible to the caller")
		return nil, hidden
	}
	f := p.Filter()
	if env != "" {
		f.Environments = []string{env}
	}
	ds, err := s.store.Deployments(r.Context(), store.Filter{Tenants: []string{tenant}, Environments: f.Environments, Name: name})
	if err != nil {
		return nil, err
	}
	switch len(ds) {
	case 0:
		return nil, hidden
	case 1:
	default:
		var envs []string
		for _, d := range ds {
			envs = append(envs, d.Ref.Environment)
		}
		return nil, &apiError{status: http.StatusConflict, field: "environment",
			detail: fmt.Sprintf("%s exists in environments %s: name one with ?environment=", target, strings.Join(envs, ", "))}
	}
	d := &ds[0]
	if err := s.allow(r, p, perm, action, d.Ref.String(), p.Authorize(perm, d.Ref.Tenant, d.Ref.Environment)); err != nil {
		return nil, err
	}
	return d, nil
}

// allow turns a decision into an error, auditing denials always and
// allowed decisions of mutating actions.
func (s *Server) allow(r *http.Request, p *auth.Principal, perm auth.Permission, action, target string, d auth.Decision) error {
	if !d.Allowed {
		s.audit(r, p, action, target, p.Tenant, "deny", d.Reason)
		if d.Status == http.StatusNotFound {
			return notFound("deployment %s not found", target)
		}
		return &apiError{status: d.Status, detail: d.Reason}
	}
	if mutating(perm) {
		s.audit(r, p, action, target, p.Tenant, "allow", "")
	}
	return nil
}

func mutating(perm auth.Permission) bool {
	switch perm {
	case auth.DeploymentsDeploy, auth.DeploymentsRestart, auth.DeploymentsScale, auth.DeploymentsDestroy, auth.DeploymentsExec:
		return true
	}
	return false
}

func (s *Server) getDeployment(w http.ResponseWriter, r *http.Request) {
	d, err := s.lookup(r, auth.DeploymentsRead, "read deployment")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	statusErr := s.refreshStatus(r, d)
	out := wire.DeploymentDetail{Deployment: view(d), StatusError: statusErr, Spec: d.Spec, Revisions: []wire.Revision{}}
	revs, err := s.store.Revisions(r.Context(), d.Ref)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for _, rev := range revs {
		out.Revisions = append(out.Revisions, viewRevision(rev))
	}
	if j, err := s.store.CurrentJob(r.Context(), d.Ref); err == nil && j != nil {
		v := viewJob(j)
		out.CurrentJob = &v
	}
	reply(w, http.StatusOK, out)
}

func viewRevision(r store.Revision) wire.Revision {
	v := wire.Revision{Number: r.Number, Incarnation: r.Incarnation, SourceHash: r.SourceHash, AppliedBy: r.AppliedBy,
		AppliedAt: r.AppliedAt, Outcome: r.Outcome, Error: r.Error, Images: r.Images, DestroyedBy: r.DestroyedBy}
	if r.Destroyed() {
		v.DestroyedAt = &r.DestroyedAt
	}
	return v
}

// operationPermission is the permission each of wire.RuntimeOps needs.
var operationPermission = map[wire.Op]auth.Permission{
	wire.OpDestroy: auth.DeploymentsDestroy, wire.OpRestart: auth.DeploymentsRestart,
	wire.OpStart: auth.DeploymentsRestart, wire.OpStop: auth.DeploymentsRestart, wire.OpScale: auth.DeploymentsScale,
}

// operation queues the job of one of wire.RuntimeOps.
func (s *Server) operation(op wire.Op) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		d, err := s.lookup(r, operationPermission[op], op.AuditAction())
		if err != nil {
			s.fail(w, r, err)
			return
		}
		var body wire.OperationRequest
		if r.ContentLength != 0 {
			if err := s.decode(w, r, smallBody, &body); err != nil {
				s.fail(w, r, err)
				return
			}
		}
		payload, err := s.operationPayload(op, d, body)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		p := principal(r.Context())
		id, err := s.store.Enqueue(r.Context(), store.NewJob{Deployment: d.Ref, Kind: string(op.JobKind()), Payload: payload, CreatedBy: p.Subject})
		if err != nil {
			s.fail(w, r, err)
			return
		}
		reply(w, http.StatusAccepted, wire.OperationAccepted{Deployment: d.Ref, Job: id})
	}
}

func (s *Server) operationPayload(op wire.Op, d *store.Deployment, body wire.OperationRequest) (jobs.Payload, error) {
	backend, err := s.deploymentBackend(d)
	p := jobs.Payload{Backend: backend, Service: body.Service, RemoveData: body.RemoveData}
	if err != nil {
		return p, err
	}
	if body.Service != "" && d.Spec.Service(body.Service) == nil {
		return p, badRequest("service", "deployment %s has no service %q", d.Ref.Name, body.Service)
	}
	if body.RemoveData && op != wire.OpDestroy {
		return p, badRequest("remove_data", "remove_data applies to destroy only")
	}
	if body.Service != "" && op == wire.OpDestroy {
		return p, badRequest("service", "destroy removes the whole deployment; it takes no service")
	}
	switch {
	case op == wire.OpScale && (body.Service == "" || body.Replicas == nil):
		return p, badRequest(firstMissing(body), "scale needs service and replicas")
	case op == wire.OpScale && (*body.Replicas < 0 || *body.Replicas > core.MaxReplicas):
		return p, badRequest("replicas", "replicas %d is outside 0..%d", *body.Replicas, core.MaxReplicas)
	case op != wire.OpScale && body.Replicas != nil:
		return p, badRequest("replicas", "replicas applies to scale only")
	}
	if body.Replicas != nil {
		p.Replicas = *body.Replicas
	}
	return p, nil
}

// deploymentBackend is the registered backend a deployment runs on, with
// the settings its topology gave it. A backend no longer registered, or no
// longer granted to the deployment's tenant and environment, is a 409.
func (s *Server) deploymentBackend(d *store.Deployment) (jobs.Backend, error) {
	typ, name, _ := strings.Cut(d.Backend, ".")
	b := jobs.Backend{Type: typ, Name: name, Config: d.BackendConfig}
	if reg := s.registry.Lookup(d.Backend); reg == nil || !reg.Granted(d.Ref.Tenant, d.Ref.Environment) {
		return b, &apiError{status: http.StatusConflict, detail: fmt.Sprintf(
			"deployment %s runs on backend %s, which this controller does not register for tenant %s in environment %s (any more): an operator must register or grant it",
			d.Ref, d.Backend, d.Ref.Tenant, d.Ref.Environment)}
	}
	return b, nil
}

func firstMissing(b wire.OperationRequest) string {
	if b.Service == "" {
		return "service"
	}
	return "replicas"
}

// refreshStatus asks the backend for the deployment's status now, and
// keeps it; when the backend cannot say, the stored status stays and the
// reason is returned.
func (s *Server) refreshStatus(r *http.Request, d *store.Deployment) string {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	c, err := s.client(ctx, d)
	var st *sdk.StatusResponse
	if err == nil {
		st, err = c.Status(ctx, &sdk.StatusRequest{Deployment: d.Ref, State: d.State})
	}
	if err != nil {
		_, detail := status(err)
		return "live status unavailable, showing the last one recorded: " + detail
	}
	d.Status = &st.Status
	if err := s.store.SaveStatus(context.WithoutCancel(ctx), d.Ref, st.Status); err != nil {
		s.log.Warn("record status", "deployment", d.Ref.String(), "error", err)
	}
	return ""
}
