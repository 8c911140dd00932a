package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/alphaswarm/controller/host/internal/api/wire"
	"github.com/alphaswarm/controller/sdk"
)

func runPlan(e env, args []string) int {
	fs := newFlags(e, string(wire.OpPlan), "plan [flags] [DIR]")
	var tf topologyFlags
	tf.register(fs.FlagSet)
	strict := fs.Bool("strict", false, "treat fields a backend would drop as errors (with -local)")
	local := fs.Bool("local", false, "plan here with the local plugins and your own credentials, without a controller")
	pos, code, ok := fs.parse(args, "[DIR]")
	if !ok {
		return code
	}
	dir := dirArg(pos)
	if !*local {
		return e.remotePlan(dir, tf)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	s, m, diags := tf.check(ctx, dir)
	if m != nil {
		defer m.Close()
	}
	var plans []wire.DeploymentPlan
	if !diags.HasErrors() {
		var planDiags hcl.Diagnostics
		plans, planDiags = s.Plan(ctx, *strict)
		diags = append(diags, planDiags...)
	}
	if tf.asJSON {
		writeJSON(e, map[string]any{"deployments": plans, "diagnostics": toJSONDiagnostics(diags, s.Topology.Files)})
	} else {
		printDiagnostics(e, diags, s.Topology.Files)
		if !diags.HasErrors() {
			printPlans(e, plans)
		}
	}
	if diags.HasErrors() {
		return exitError
	}
	return exitOK
}

var actionSymbol = map[sdk.Action]string{sdk.ActionCreate: "+", sdk.ActionUpdate: "~", sdk.ActionDelete: "-", sdk.ActionNoop: " "}

func printPlans(e env, plans []wire.DeploymentPlan) {
	var creates, updates, deletes, records int
	for _, p := range plans {
		fmt.Fprintf(e.stdout, "deployment %s/%s/%s on %s:\n", p.Tenant, p.Environment, p.Deployment, p.Backend)
		if p.Skipped != "" {
			fmt.Fprintf(e.stdout, "  (not planned: %s)\n\n", p.Skipped)
			continue
		}
		for _, c := range p.Services {
			label := string(c.Action)
			if c.Action == sdk.ActionNoop {
				label = "no changes"
			}
			fmt.Fprintf(e.stdout, "  %s service %s (%s)\n", actionSymbol[c.Action], c.Service, label)
			if c.Action == sdk.ActionUpdate {
				for _, f := range c.Fields {
					fmt.Fprintf(e.stdout, "      %s: %s -> %s\n", f.Path, orNone(f.Before), orNone(f.After))
				}
			}
		}
		for _, n := range p.Compatibility {
			fmt.Fprintf(e.stdout, "  ! service %s, %s: %s: %s\n", n.Service, n.Field, n.Level, n.Detail)
		}
		if p.RecordOnly() {
			records++
			fmt.Fprintf(e.stdout, "  %s\n", recordOnlyNote[p.Record])
		}
		fmt.Fprintln(e.stdout)
		c, u, d := p.Changes()
		creates, updates, deletes = creates+c, updates+u, deletes+d
	}
	switch {
	case creates+updates+deletes == 0 && records == 0:
		fmt.Fprintln(e.stdout, "No changes. The backends run what the topology says.")
	case creates+updates+deletes == 0:
		fmt.Fprintf(e.stdout, "No changes on the backends. Apply records %d deployment(s) on the controller.\n", records)
	default:
		fmt.Fprintf(e.stdout, "Plan: %d to create, %d to update, %d to delete.\n", creates, updates, deletes)
	}
}

// recordOnlyNote explains a deployment whose apply changes the
// controller's record and nothing on its backend.
var recordOnlyNote = map[wire.RecordChange]string{
	wire.RecordNew:    "+ record (the backend runs this deployment already, but the controller holds no record of it: apply adopts what runs with its labels, without replacing it)",
	wire.RecordUpdate: "~ record (the controller's record differs in what the backend does not act on: apply records a new revision)",
}

func orNone(s string) string {
	if strings.TrimSpace(s) == "" {
		return "(none)"
	}
	return s
}
