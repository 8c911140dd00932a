package planner

import (
	"context"
	"fmt"

	"github.com/hashicorp/hcl/v2"

	"github.com/alphaswarm/controller/host/internal/api/wire"
	"github.com/alphaswarm/controller/host/internal/topology"
	"github.com/alphaswarm/controller/sdk"
)

// Plan asks each deployment's plugin what applying it would change, against
// what the backend runs. Compatibility notes of level error are errors; in
// strict mode, so are fields a backend would drop.
func (s *Session) Plan(ctx context.Context, strict bool) ([]wire.DeploymentPlan, hcl.Diagnostics) {
	var plans []wire.DeploymentPlan
	var diags hcl.Diagnostics
	for _, d := range s.Topology.Deployments {
		plan := wire.DeploymentPlan{Tenant: d.Spec.Tenant, Environment: d.Spec.Environment, Deployment: d.Spec.Name}
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
