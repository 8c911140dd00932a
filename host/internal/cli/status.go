package cli

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/alphaswarm/controller/host/internal/api/wire"
	"github.com/alphaswarm/controller/host/internal/apiclient"
)

func runStatus(e env, args []string) int {
	fs := newFlags(e, "status", "status [flags] [TENANT/NAME]")
	var rf remoteFlags
	rf.register(fs.FlagSet)
	pos, code, ok := fs.parse(args, "[TENANT/NAME]")
	if !ok {
		return code
	}
	c, err := connect()
	if err != nil {
		return e.errorf("%v", err)
	}
	ctx, cancel := interrupted()
	defer cancel()
	if len(pos) == 0 {
		ds, err := c.Deployments(ctx)
		if err != nil {
			return e.remoteError(err)
		}
		if rf.asJSON {
			writeJSON(e, map[string]any{"deployments": ds})
			return exitOK
		}
		e.printDeployments(ds)
		return exitOK
	}
	ref, err := apiclient.ParseRef(pos[0], rf.env)
	if err != nil {
		return fs.usageError("%v", err)
	}
	d, err := c.Deployment(ctx, ref)
	if err != nil {
		return e.remoteError(err)
	}
	if rf.asJSON {
		writeJSON(e, d)
		return exitOK
	}
	e.printDeployment(d)
	return exitOK
}

func health(d wire.Deployment) string {
	if d.Status == nil {
		return "unknown"
	}
	return string(d.Status.Health)
}

func (e env) printDeployments(ds []wire.Deployment) {
	if len(ds) == 0 {
		fmt.Fprintln(e.stdout, "No deployments.")
		return
	}
	w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "DEPLOYMENT\tENVIRONMENT\tBACKEND\tREVISION\tHEALTH\tUPDATED")
	for _, d := range ds {
		fmt.Fprintf(w, "%s/%s\t%s\t%s\t%d\t%s\t%s\n", d.Tenant, d.Name, d.Environment, d.Backend, d.Revision, health(d), ago(d.Updated))
	}
	w.Flush()
}

func (e env) printDeployment(d *wire.DeploymentDetail) {
	fmt.Fprintf(e.stdout, "Deployment:  %s/%s\nEnvironment: %s\nBackend:     %s\nRevision:    %d\n",
		d.Tenant, d.Name, d.Environment, d.Backend, d.Revision)
	if d.Incarnation > 1 {
		fmt.Fprintf(e.stdout, "Incarnation: %d (the name was destroyed and applied again; see the history)\n", d.Incarnation)
	}
	fmt.Fprintf(e.stdout, "Health:      %s\n", health(d.Deployment))
	if d.StatusError != "" {
		fmt.Fprintf(e.stdout, "Note:        %s\n", d.StatusError)
	}
	if d.DestroyError != "" {
		fmt.Fprintf(e.stdout, "Destroy failed: %s\n", d.DestroyError)
	}
	if d.Status != nil {
		for _, r := range d.Status.Reasons {
			fmt.Fprintf(e.stdout, "  - %s\n", r)
		}
		fmt.Fprintln(e.stdout)
		w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "SERVICE\tREADY\tHEALTH\tREASONS")
		for _, s := range d.Status.Services {
			fmt.Fprintf(w, "%s\t%d/%d\t%s\t%s\n", s.Name, s.Ready, s.Desired, s.Health, joinReasons(s.Reasons))
		}
		w.Flush()
	}
	if d.CurrentJob != nil {
		fmt.Fprintf(e.stdout, "\nCurrent job: %d, %s, %s\n", d.CurrentJob.ID, d.CurrentJob.Kind, d.CurrentJob.State)
	}
	if len(d.Revisions) > 0 {
		fmt.Fprintln(e.stdout)
		e.printHistory(d.Revisions)
	}
}

// timeLayout is how the CLI shows a moment.
const timeLayout = "2006-01-02 15:04:05"

// printHistory lists revisions oldest first, with a line where an
// incarnation was destroyed; revisions come newest first.
func (e env) printHistory(revs []wire.Revision) {
	w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "REVISION\tAPPLIED\tBY\tOUTCOME")
	for i := len(revs) - 1; i >= 0; i-- {
		r := revs[i]
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\n", r.Number, r.AppliedAt.Local().Format(timeLayout), r.AppliedBy, r.Outcome)
		if r.DestroyedAt != nil && (i == 0 || revs[i-1].Incarnation != r.Incarnation) {
			fmt.Fprintf(w, "-\t%s\t%s\tdestroyed (incarnation %d ends)\n", r.DestroyedAt.Local().Format(timeLayout), orDash(r.DestroyedBy), r.Incarnation)
		}
	}
	w.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func joinReasons(rs []string) string {
	if len(rs) == 0 {
		return "-"
	}
	out := rs[0]
	for _, r := range rs[1:] {
		out += "; " + r
	}
	return out
}

func ago(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return time.Since(t).Round(time.Second).String() + " ago"
}
