package api_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/host/internal/api/wire"
	"github.com/alphaswarm/controller/host/internal/apiclient"
)

// TestAPIClientReadsTheServer drives the API with the client swarmctl
// uses: each answer the server encodes decodes into the same wire type on
// the client's side, problems and diagnostics included.
func TestAPIClientReadsTheServer(t *testing.T) {
	stores(t, func(t *testing.T, h *harness) {
		ctx := t.Context()
		c, err := apiclient.New(h.url, h.admin("acme"))
		if err != nil {
			t.Fatal(err)
		}
		req := wire.TopologyRequest{Files: topology("acme", "prod", "web")["files"].(map[string]string)}
		plan, err := c.Plan(ctx, req)
		if err != nil || len(plan.Plans) != 1 || plan.Plans[0].Record != wire.RecordNew || !strings.HasPrefix(plan.Hash, "sha256:") {
			t.Fatalf("plan: %+v, %v", plan, err)
		}
		if create, _, _ := plan.Plans[0].Changes(); create != 1 {
			t.Errorf("plan creates %d services, want 1: %+v", create, plan.Plans[0])
		}
		req.PlanHash = plan.Hash
		applied, err := c.Apply(ctx, req)
		if err != nil || len(applied.Jobs) != 1 || applied.Hash != plan.Hash {
			t.Fatalf("apply: %+v, %v", applied, err)
		}
		go h.drain()
		events := 0
		end, err := c.FollowJob(ctx, applied.Jobs[0].ID, func(core.Event) { events++ })
		if err != nil || !end.Succeeded() || end.Kind != wire.OpApply || events == 0 {
			t.Fatalf("follow the apply job: %+v after %d events, %v", end, events, err)
		}

		list, err := c.Deployments(ctx)
		if err != nil || len(list) != 1 || list[0].Name != "web" || list[0].Status == nil || list[0].Created.IsZero() {
			t.Fatalf("deployments: %+v, %v", list, err)
		}
		ref, err := apiclient.ParseRef("acme/web", "")
		if err != nil {
			t.Fatal(err)
		}
		d, err := c.Deployment(ctx, ref)
		if err != nil || d.Revision != 1 || len(d.Revisions) != 1 || d.Revisions[0].Outcome != "succeeded" || d.Spec.Services[0].Image != "api:1" {
			t.Fatalf("deployment: %+v, %v", d, err)
		}

		var lines []wire.LogLine
		if err := c.Logs(ctx, ref, "api", apiclient.LogsOptions{Tail: 1}, func(l wire.LogLine) { lines = append(lines, l) }); err != nil {
			t.Fatal(err)
		}
		if len(lines) != 2 || lines[0].Service != "api" || lines[0].Replica == "" || lines[0].Time.IsZero() {
			t.Errorf("logs -tail 1 of two replicas: %+v", lines)
		}

		var stdout, stderr strings.Builder
		code, err := c.Exec(ctx, ref, "api", apiclient.ExecOptions{Command: []string{"echo", "over", "the", "wire"}, Stdout: &stdout, Stderr: &stderr})
		if err != nil || code != 0 || stdout.String() != "over the wire\n" {
			t.Errorf("exec: exit %d, %v, stdout %q, stderr %q", code, err, stdout.String(), stderr.String())
		}

		three := 3
		id, err := c.Operate(ctx, ref, wire.OpScale, wire.OperationRequest{Service: "api", Replicas: &three})
		if err != nil {
			t.Fatal(err)
		}
		h.drain()
		if j, err := c.Job(ctx, id); err != nil || j.Kind != wire.OpScale || !j.Succeeded() || j.Started.IsZero() {
			t.Errorf("scale job: %+v, %v", j, err)
		}
		id, err = c.Rollback(ctx, ref, 1)
		if err != nil {
			t.Fatal(err)
		}
		h.drain()
		if j, err := c.Job(ctx, id); err != nil || j.Kind != wire.OpRollback.JobKind() || !j.Succeeded() {
			t.Errorf("rollback job: %+v, %v", j, err)
		}

		var problem *apiclient.Error
		_, err = c.Operate(ctx, ref, wire.OpScale, wire.OperationRequest{Service: "api"})
		if !errors.As(err, &problem) || problem.Status != 400 || problem.Field != "replicas" || problem.RequestID == "" {
			t.Errorf("scale without replicas: %#v", err)
		}
		_, err = c.Plan(ctx, wire.TopologyRequest{Files: map[string]string{"main.hcl": "deployment {"}})
		if !errors.As(err, &problem) || problem.Status != 400 || len(problem.Diagnostics) == 0 || problem.Diagnostics[0].File != "main.hcl" {
			t.Errorf("plan of a broken file: %#v", err)
		}
	})
}
