package planner

import (
	"context"
	"fmt"

	"github.com/hashicorp/hcl/v2"

	"github.com/alphaswarm/controller/host/internal/topology"
	"github.com/alphaswarm/controller/sdk"
)

// DeploymentPlan is the plan of one deployment.
type DeploymentPlan struct {
	Tenant        string                  `json:"tenant"`
	Environment   string                  `json:"environment"`
	Deployment    string                  `json:"deployment"`
	Backend       string                  `json:"backend"`
	Services      []sdk.ServiceChange     `json:"services"`
	Compatibility []sdk.CompatibilityNote `json:"compatibility,omitempty"`
	// Skipped says why there is no plan (the plugin is not installed).
	Skipped string `json:"skipped,omitempty"`
	// Record is what apply writes on the controller whatever the backend
	// has to change (a plan made against the controller sets it; a local
	// one leaves it empty).
	Record RecordChange `json:"record,omitempty"`
}

// RecordChange is what apply does to the controller's record of a
// deployment.
type RecordChange string

// The record changes.
const (
	// RecordNone: the record matches the plan.
	RecordNone RecordChange = ""
	// RecordNew: the controller holds no record of the deployment (never
	// applied, destroyed, or applied by a host that stopped before it
	// recorded it). Apply records it, adopting what the backend runs with
	// this deployment's labels.
	RecordNew RecordChange = "new"
	// RecordUpdate: the recorded spec or backend differs from the plan's,
	// even if the backend has nothing to change; apply records a new
	// revision.
	RecordUpdate RecordChange = "update"
)

// RecordOnly reports whether applying the plan changes the controller's
// record and nothing on the backend.
func (p *DeploymentPlan) RecordOnly() bool {
	c, u, d := p.Changes()
	return p.Record != RecordNone && c+u+d == 0
}

// Changes counts the services the plan creates, updates and deletes.
func (p *DeploymentPlan) Changes() (create, update, del int) {
	for _, c := range p.Services {
		switch c.Action {
		case sdk.ActionCreate:
			create++
		case sdk.ActionUpdate:
			update++
		case sdk.ActionDelete:
			del++
		}
	}
	return
}

// Plan asks each deployment's plugin what applying it would change, against
// what the backend runs. Compatibility notes of level error are errors; in
// strict mode, so are fields a backend would drop.
func (s *Session) Plan(ctx context.Context, strict bool) ([]DeploymentPlan, hcl.Diagnostics) {
	var plans []DeploymentPlan
	var diags hcl.Diagnostics
	for _, d := range s.Topology.Deployments {
		plan := DeploymentPlan{Tenant: d.Spec.Tenant, Environment: d.Spec.Environment, Deployment: d.Spec.Name}
		if d.Backend == nil {
			continue
		}
		plan.Backend = d.Backend.ID()
		c := s.clients[d.Backend.ID()]
		if c == nil {
			plan.Skipped = fmt.Sprintf("the %s plugin is not installed", d.Backend.Type)
			plans = append(plans, plan)
			continue
		}
		req := &sdk.PlanRequest{Deployment: d.Spec}
		if s.opts.PriorState != nil {
			req.PriorState = s.opts.PriorState(d.Spec.Ref())
		}
		resp, err := c.Plan(ctx, req)
		if err != nil {
			diags = diags.Append(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Plan failed",
				Detail: fmt.Sprintf("Planning deployment %q on %s: %v.", d.Spec.Name, plan.Backend, err), Subject: d.DeclRange.Ptr()})
			continue
		}
		plan.Services, plan.Compatibility = resp.Services, resp.Compatibility
		diags = append(diags, compatibilityDiags(d, resp.Compatibility, strict)...)
		plans = append(plans, plan)
	}
	return plans, diags
}

func compatibilityDiags(d *topology.Deployment, notes []sdk.CompatibilityNote, strict bool) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, n := range notes {
		if n.Level != sdk.CompatError && (n.Level != sdk.CompatDropped || !strict) {
			continue
		}
		rng := d.Range("service." + n.Service + "." + n.Field)
		summary := "Backend cannot run this field"
		if n.Level == sdk.CompatDropped {
			summary = "Backend would drop this field (strict mode)"
		}
		diags = diags.Append(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary,
			Detail: fmt.Sprintf("service %s, %s: %s.", n.Service, n.Field, n.Detail), Subject: &rng})
	}
	return diags
}
