package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/core/auth"
	"github.com/alphaswarm/controller/host/internal/api/wire"
	"github.com/alphaswarm/controller/host/internal/jobs"
	"github.com/alphaswarm/controller/host/internal/planner"
	"github.com/alphaswarm/controller/host/internal/pluginmgr"
	"github.com/alphaswarm/controller/host/internal/store"
	"github.com/alphaswarm/controller/host/internal/topology"
	"github.com/alphaswarm/controller/sdk"
)

func diagnostics(diags hcl.Diagnostics) []wire.Diagnostic {
	out := []wire.Diagnostic{}
	for _, d := range diags {
		v := wire.Diagnostic{Severity: "error", Summary: d.Summary, Detail: d.Detail}
		if d.Severity == hcl.DiagWarning {
			v.Severity = "warning"
		}
		if d.Subject != nil {
			v.File, v.Line, v.Column = d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column
		}
		out = append(out, v)
	}
	return out
}

// planned is a checked and planned topology.
type planned struct {
	session *planner.Session
	result  wire.PlanResult
}

// check loads the body's topology, decides perm for every deployment in
// it, and only then starts plugins to validate and plan it.
func (s *Server) check(r *http.Request, body wire.TopologyRequest, perm auth.Permission, action string) (*planned, error) {
	if len(body.Files) == 0 {
		return nil, badRequest("files", "files is empty: send the topology's .hcl files by name")
	}
	p := principal(r.Context())
	if d := p.AuthorizeGlobal(perm); !d.Allowed { // before any work on the files
		return nil, s.allow(r, p, perm, action, "", d)
	}
	sources := map[string][]byte{}
	for name, src := range body.Files {
		sources[name] = []byte(src)
	}
	t, diags, err := s.load(r, sources, body.Variables)
	if err != nil {
		return nil, err
	}
	if diags.HasErrors() {
		return nil, &apiError{status: http.StatusBadRequest, field: "files", detail: "the topology has errors", diags: diagnostics(diags)}
	}
	for _, d := range t.Deployments {
		if err := s.allow(r, p, perm, action, d.Spec.Ref().String(), p.AuthorizeCreate(perm, d.Spec.Tenant, d.Spec.Environment)); err != nil {
			return nil, err
		}
	}
	if err := s.checkBackends(r, p, t, action); err != nil {
		return nil, err
	}
	recorded, err := s.recorded(r, t)
	if err != nil {
		return nil, err
	}
	session, more := planner.CheckTopology(r.Context(), t, s.plugins, planner.Options{
		Registered: s.registered(p.Tenant),
		PriorState: func(ref core.DeploymentRef) []byte {
			if d := recorded[ref]; d != nil {
				return d.State
			}
			return nil
		},
		UsedBackendsOnly: true,
	})
	diags = append(diags, more...)
	if diags.HasErrors() {
		return nil, &apiError{status: http.StatusUnprocessableEntity, field: "files", detail: "the backends reject the topology", diags: diagnostics(diags)}
	}
	plans, more := session.Plan(r.Context(), false)
	diags = append(diags, more...)
	if diags.HasErrors() {
		return nil, &apiError{status: http.StatusUnprocessableEntity, field: "files", detail: "the topology cannot be planned", diags: diagnostics(diags)}
	}
	if plans == nil {
		plans = []wire.DeploymentPlan{}
	}
	for i := range plans {
		plans[i].Record = recordChange(recorded, t, &plans[i])
	}
	res := wire.PlanResult{Plans: plans, Diagnostics: diagnostics(diags), SourceHash: sourceHash(sources)}
	res.Hash = planHash(res)
	return &planned{session: session, result: res}, nil
}

// checkBackends refuses a topology that refers to a backend no operator
// registered (diagnostics at its blocks), or deploys to one that is not
// granted to the deployment's tenant and environment (403, audited).
func (s *Server) checkBackends(r *http.Request, p *auth.Principal, t *topology.Topology, action string) error {
	var diags hcl.Diagnostics
	for _, b := range t.Backends {
		if s.registry.Lookup(b.ID()) == nil {
			diags = diags.Append(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Backend not registered",
				Detail:  fmt.Sprintf("No operator registered backend %s on this controller. Backends tenant %s may use: %s.", b.ID(), p.Tenant, orNone(s.registry.IDs(p.Tenant))),
				Subject: b.DeclRange.Ptr()})
		}
	}
	if diags.HasErrors() {
		return &apiError{status: http.StatusUnprocessableEntity, field: "files", detail: "the topology refers to backends this controller does not have", diags: diagnostics(diags)}
	}
	for _, d := range t.Deployments {
		if d.Backend == nil {
			continue
		}
		ref := d.Spec.Ref()
		if !s.registry.Lookup(d.Backend.ID()).Granted(ref.Tenant, ref.Environment) {
			reason := fmt.Sprintf("backend %s is not granted to tenant %s in environment %s", d.Backend.ID(), ref.Tenant, ref.Environment)
			s.audit(r, p, action, ref.String(), p.Tenant, "deny", reason)
			return &apiError{status: http.StatusForbidden, field: "files", detail: reason}
		}
	}
	return nil
}

func orNone(ids []string) string {
	if len(ids) == 0 {
		return "none"
	}
	return strings.Join(ids, ", ")
}

// registered makes each backend block of tenant's topology a reference to
// the registered backend of its name, setting only what the plugin marks
// tenant-settable.
func (s *Server) registered(tenant string) func(context.Context, *topology.Backend, sdk.Schema) (pluginmgr.InstanceConfig, json.RawMessage, hcl.Diagnostics) {
	return func(ctx context.Context, b *topology.Backend, schema sdk.Schema) (pluginmgr.InstanceConfig, json.RawMessage, hcl.Diagnostics) {
		config, diags := b.DecodeTenantConfig(schema)
		if diags.HasErrors() {
			return pluginmgr.InstanceConfig{}, nil, diags
		}
		inst, err := s.registry.Instance(ctx, tenant, b.ID(), config)
		if err != nil {
			s.log.Error("configure a registered backend", "backend", b.ID(), "tenant", tenant, "error", err)
			return inst, nil, append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Backend unavailable",
				Detail: fmt.Sprintf("Backend %s cannot be configured on this controller; the operator's log says why.", b.ID()), Subject: b.DeclRange.Ptr()})
		}
		return inst, config, diags
	}
}

// evaluationTime bounds the evaluation of one topology.
const evaluationTime = 30 * time.Second

// load evaluates a topology once a slot is free, or fails when the
// request ends first; evaluation stops when the request ends or after
// evaluationTime.
func (s *Server) load(r *http.Request, sources map[string][]byte, vars map[string]string) (*topology.Topology, hcl.Diagnostics, error) {
	select {
	case s.evaluations <- struct{}{}:
		defer func() { <-s.evaluations }()
	case <-r.Context().Done():
		return nil, nil, &apiError{status: http.StatusServiceUnavailable, detail: "the controller was busy evaluating other topologies until the request ended; try again"}
	}
	ctx, cancel := context.WithTimeoutCause(r.Context(), evaluationTime, fmt.Errorf("evaluation took more than %s", evaluationTime))
	defer cancel()
	t, diags := topology.LoadSources("request", sources, topology.Values{Args: variableArgs(vars), Context: ctx})
	return t, diags, nil
}

func backendOf(b *topology.Backend, config json.RawMessage) jobs.Backend {
	return jobs.Backend{Type: b.Type, Name: b.Name, Config: config}
}

// variableArgs turns variables into -var style arguments, in name order.
func variableArgs(vars map[string]string) []string {
	var args []string
	for _, name := range slices.Sorted(maps.Keys(vars)) {
		args = append(args, name+"="+vars[name])
	}
	return args
}

// recorded reads what the store holds of the topology's deployments,
// before any plugin starts; a deployment it does not hold is absent.
func (s *Server) recorded(r *http.Request, t *topology.Topology) (map[core.DeploymentRef]*store.Deployment, error) {
	out := map[core.DeploymentRef]*store.Deployment{}
	for _, d := range t.Deployments {
		ref := d.Spec.Ref()
		got, err := s.store.Deployment(r.Context(), ref)
		switch {
		case errors.Is(err, store.ErrNotFound):
			continue
		case got == nil:
			return nil, err
		}
		out[ref] = got // a state that does not decrypt plans from nothing; its job says why
	}
	return out, nil
}

// recordChange compares a plan with the controller's record of its
// deployment.
func recordChange(recorded map[core.DeploymentRef]*store.Deployment, t *topology.Topology, plan *wire.DeploymentPlan) wire.RecordChange {
	ref := core.DeploymentRef{Tenant: plan.Tenant, Environment: plan.Environment, Name: plan.Deployment}
	d := recorded[ref]
	if d == nil {
		return wire.RecordNew
	}
	for _, td := range t.Deployments {
		if td.Spec.Ref() != ref {
			continue
		}
		want, _ := json.Marshal(td.Spec)
		have, _ := json.Marshal(d.Spec)
		if d.Backend != plan.Backend || !bytes.Equal(want, have) {
			return wire.RecordUpdate
		}
	}
	return wire.RecordNone
}

// sourceHash hashes the files by name and content.
func sourceHash(sources map[string][]byte) string {
	h := sha256.New()
	for _, name := range slices.Sorted(maps.Keys(sources)) {
		fmt.Fprintf(h, "%s\x00%d\x00", name, len(sources[name]))
		h.Write(sources[name])
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// planHash hashes what the plan would do and from which sources.
func planHash(res wire.PlanResult) string {
	b, _ := json.Marshal(struct {
		Plans  []wire.DeploymentPlan
		Source string
	}{res.Plans, res.SourceHash})
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

func (s *Server) plan(w http.ResponseWriter, r *http.Request) {
	var body wire.TopologyRequest
	err := s.decode(w, r, s.maxBody, &body)
	var pl *planned
	if err == nil {
		pl, err = s.check(r, body, auth.DeploymentsDeploy, wire.OpPlan.AuditAction())
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	reply(w, http.StatusOK, pl.result)
}

func (s *Server) apply(w http.ResponseWriter, r *http.Request) {
	var body wire.TopologyRequest
	err := s.decode(w, r, s.maxBody, &body)
	var pl *planned
	if err == nil {
		pl, err = s.check(r, body, auth.DeploymentsDeploy, wire.OpApply.AuditAction())
	}
	if err == nil {
		err = applicable(pl, body.PlanHash)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := principal(r.Context())
	queued := []wire.QueuedJob{}
	for _, d := range pl.session.Topology.Deployments {
		if d.Backend == nil {
			continue
		}
		spec := d.Spec
		id, err := s.store.Enqueue(r.Context(), store.NewJob{Deployment: spec.Ref(), Kind: string(wire.OpApply.JobKind()), CreatedBy: p.Subject,
			Payload: jobs.Payload{Backend: backendOf(d.Backend, pl.session.BackendConfig(d.Backend.ID())), Spec: &spec, SourceHash: pl.result.SourceHash}})
		if err != nil {
			s.fail(w, r, err)
			return
		}
		queued = append(queued, wire.QueuedJob{ID: id, Deployment: spec.Ref()})
	}
	reply(w, http.StatusAccepted, wire.ApplyResult{PlanResult: pl.result, Jobs: queued})
}

// applicable refuses a plan other than the reviewed one, and deployments
// whose plugin is not installed.
func applicable(pl *planned, reviewed string) error {
	if reviewed != "" && reviewed != pl.result.Hash {
		return &apiError{status: http.StatusConflict, field: "plan_hash",
			detail: fmt.Sprintf("the plan changed since it was reviewed (now %s); plan again", pl.result.Hash)}
	}
	for _, p := range pl.result.Plans {
		if p.Skipped != "" {
			return &apiError{status: http.StatusUnprocessableEntity, field: "files",
				detail: fmt.Sprintf("deployment %s cannot be applied: %s", p.Deployment, p.Skipped)}
		}
	}
	return nil
}
