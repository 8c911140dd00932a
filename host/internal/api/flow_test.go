package api_test

import (
	"bufio"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/alphaswarm/controller/core/auth"
	"github.com/alphaswarm/controller/host/internal/api/wire"
)

type planAnswer struct {
	PlanHash string `json:"plan_hash"`
	Plans    []struct {
		Deployment string
		Services   []struct{ Service, Action string }
	}
	Jobs []struct{ ID int64 }
}

// TestPlanThenApplyTheReviewedPlan plans, applies with the plan's hash,
// and checks that a plan that changed since review is refused.
func TestPlanThenApplyTheReviewedPlan(t *testing.T) {
	stores(t, func(t *testing.T, h *harness) {
		deployer := h.token("acme", []string{"prod"}, auth.DeploymentsDeploy, auth.DeploymentsRead)
		code, out := h.do("POST", "/v1/plan", deployer, topology("acme", "prod", "web"))
		if code != http.StatusOK {
			t.Fatalf("plan: %d %s", code, out)
		}
		plan := decodeJSON[planAnswer](t, out)
		if len(plan.Plans) != 1 || len(plan.Plans[0].Services) != 1 || plan.Plans[0].Services[0].Action != "create" || !strings.HasPrefix(plan.PlanHash, "sha256:") {
			t.Fatalf("plan %s", out)
		}
		changed := topology("acme", "prod", "web")
		changed["files"].(map[string]string)["main.hcl"] = strings.Replace(changed["files"].(map[string]string)["main.hcl"], "replicas = 2", "replicas = 3", 1)
		changed["plan_hash"] = plan.PlanHash
		if code, out := h.do("POST", "/v1/apply", deployer, changed); code != http.StatusConflict || !strings.Contains(string(out), "changed since it was reviewed") {
			t.Fatalf("apply of another plan than reviewed: %d %s", code, out)
		}
		reviewed := topology("acme", "prod", "web")
		reviewed["plan_hash"] = plan.PlanHash
		code, out = h.do("POST", "/v1/apply", deployer, reviewed)
		applied := decodeJSON[planAnswer](t, out)
		if code != http.StatusAccepted || len(applied.Jobs) != 1 || applied.PlanHash != plan.PlanHash {
			t.Fatalf("apply: %d %s", code, out)
		}
		events := h.streamEvents(deployer, applied.Jobs[0].ID)
		if !strings.Contains(events, "event: progress") || !strings.Contains(events, `event: end`) || !strings.Contains(events, `"state":"succeeded"`) {
			t.Errorf("job events:\n%s", events)
		}
		code, out = h.do("GET", "/v1/deployments/acme/web", deployer, nil)
		dep := decodeJSON[struct {
			Revision  int
			Revisions []struct {
				Number    int
				AppliedBy string `json:"applied_by"`
				Outcome   string
			}
			Status *struct{ Health string }
		}](t, out)
		if code != http.StatusOK || dep.Revision != 1 || len(dep.Revisions) != 1 || dep.Revisions[0].AppliedBy != "user@acme" || dep.Revisions[0].Outcome != "succeeded" || dep.Status == nil {
			t.Errorf("deployment: %d %s", code, out)
		}
		code, out = h.do("POST", "/v1/plan", deployer, topology("acme", "prod", "web"))
		again := decodeJSON[planAnswer](t, out)
		if code != http.StatusOK || again.Plans[0].Services[0].Action != "no-op" {
			t.Errorf("a plan after apply is not a no-op against the stored state: %s", out)
		}
	})
}

// streamEvents reads a job's event stream to its end, with a deadline
// while the harness drains the queue.
func (h *harness) streamEvents(token string, job int64) string {
	h.t.Helper()
	go h.drain()
	req, _ := http.NewRequest("GET", fmt.Sprintf("%s/v1/jobs/%d/events", h.url, job), nil)
	req.Header.Set("Authorization", "Bearer "+token)
	client := &http.Client{Timeout: 20 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		h.t.Fatalf("content type %q", ct)
	}
	var b strings.Builder
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		b.WriteString(sc.Text() + "\n")
	}
	return b.String()
}

// operate queues op on acme/web and returns its job.
func (h *harness) operate(token string, op wire.Op, body any) int64 {
	h.t.Helper()
	code, out := h.do("POST", "/v1/deployments/acme/web/"+string(op), token, body)
	if code != http.StatusAccepted {
		h.t.Fatalf("%s: %d %s", op, code, out)
	}
	return decodeJSON[wire.OperationAccepted](h.t, out).Job
}

// succeeded runs the queued jobs and checks that job, of kind op, ended
// well.
func (h *harness) succeeded(token string, job int64, op wire.Op) {
	h.t.Helper()
	h.drain()
	code, out := h.do("GET", fmt.Sprintf("/v1/jobs/%d", job), token, nil)
	if got := decodeJSON[wire.Job](h.t, out); code != http.StatusOK || got.Kind != op.JobKind() || !got.Succeeded() {
		h.t.Fatalf("%s job %d: %d %s; want a %s job that succeeded", op, job, code, out, op.JobKind())
	}
}

func TestRuntimeOperationsQueueJobs(t *testing.T) {
	stores(t, func(t *testing.T, h *harness) {
		h.deploy("acme", "prod", "web")
		ops := h.token("acme", []string{"prod"}, auth.DeploymentsScale, auth.DeploymentsRestart, auth.DeploymentsRead, auth.DeploymentsDestroy)
		h.succeeded(ops, h.operate(ops, wire.OpScale, map[string]any{"service": "api", "replicas": 4}), wire.OpScale)
		replicas := func() int {
			_, out := h.do("GET", "/v1/deployments/acme/web", ops, nil)
			d := decodeJSON[wire.DeploymentDetail](t, out)
			if d.Status == nil || len(d.Status.Services) != 1 {
				t.Fatalf("deployment without the status of its one service: %s", out)
			}
			return len(d.Status.Services[0].Replicas)
		}
		if n := replicas(); n != 4 {
			t.Errorf("after scale to 4 the status shows %d replicas", n)
		}
		for _, op := range []wire.Op{wire.OpStop, wire.OpStart, wire.OpRestart} {
			h.succeeded(ops, h.operate(ops, op, nil), op)
		}
		h.succeeded(ops, h.operate(ops, wire.OpRestart, map[string]any{"service": "api"}), wire.OpRestart)
		if n := replicas(); n != 4 {
			t.Errorf("after stop, start and restart the status shows %d replicas, want the 4 scaled to", n)
		}
		h.succeeded(ops, h.operate(ops, wire.OpDestroy, nil), wire.OpDestroy)
		if code, _ := h.do("GET", "/v1/deployments/acme/web", ops, nil); code != http.StatusNotFound {
			t.Errorf("after destroy the deployment answers %d", code)
		}
	})
}

func TestEnvironmentAmbiguity(t *testing.T) {
	stores(t, func(t *testing.T, h *harness) {
		h.deploy("acme", "prod", "web")
		h.deploy("acme", "staging", "web")
		all := h.admin("acme")
		code, out := h.do("GET", "/v1/deployments/acme/web", all, nil)
		if code != http.StatusConflict || !strings.Contains(string(out), "prod, staging") {
			t.Errorf("ambiguous name: %d %s", code, out)
		}
		code, out = h.do("GET", "/v1/deployments/acme/web?environment=staging", all, nil)
		if env := decodeJSON[struct{ Environment string }](t, out).Environment; code != 200 || env != "staging" {
			t.Errorf("named environment: %d %s", code, out)
		}
		prodOnly := h.token("acme", []string{"prod"}, auth.DeploymentsRead)
		code, out = h.do("GET", "/v1/deployments/acme/web", prodOnly, nil)
		if env := decodeJSON[struct{ Environment string }](t, out).Environment; code != 200 || env != "prod" {
			t.Errorf("a prod-only token: %d %s", code, out)
		}
		code, out = h.do("GET", "/v1/deployments", prodOnly, nil)
		list := decodeJSON[struct {
			Deployments []struct{ Environment string }
		}](t, out)
		if diff := cmp.Diff(1, len(list.Deployments)); code != 200 || diff != "" {
			t.Errorf("a prod-only listing: %d %s", code, out)
		}
	})
}

// TestRollbackAppliesAnEarlierRevision rolls back to the revision before
// the current one, recorded as a new revision, and refuses unknown ones.
func TestRollbackAppliesAnEarlierRevision(t *testing.T) {
	stores(t, func(t *testing.T, h *harness) {
		admin := h.admin("acme")
		h.deploy("acme", "prod", "web")
		if code, out := h.do("POST", "/v1/deployments/acme/web/rollback", admin, nil); code != http.StatusConflict || !strings.Contains(string(out), "no succeeded revision before 1") {
			t.Fatalf("rollback with one revision: %d %s", code, out)
		}
		v2 := topology("acme", "prod", "web")
		v2["files"].(map[string]string)["main.hcl"] = strings.Replace(v2["files"].(map[string]string)["main.hcl"], `"api:1"`, `"api:2"`, 1)
		if code, out := h.do("POST", "/v1/apply", admin, v2); code != http.StatusAccepted {
			t.Fatalf("apply v2: %d %s", code, out)
		}
		h.drain()
		if code, out := h.do("POST", "/v1/deployments/acme/web/rollback", admin, `{"revision": 9}`); code != http.StatusNotFound || !strings.Contains(string(out), `"field":"revision"`) {
			t.Errorf("rollback to a missing revision: %d %s", code, out)
		}
		code, out := h.do("POST", "/v1/deployments/acme/web/rollback", admin, nil)
		if got := decodeJSON[struct{ Revision int }](t, out); code != http.StatusAccepted || got.Revision != 1 {
			t.Fatalf("rollback: %d %s", code, out)
		}
		h.drain()
		_, out = h.do("GET", "/v1/deployments/acme/web", admin, nil)
		dep := decodeJSON[struct {
			Revision int
			Spec     struct{ Services []struct{ Image string } }
		}](t, out)
		if dep.Revision != 3 || dep.Spec.Services[0].Image != "api:1" {
			t.Errorf("after rollback: revision %d, image %s; want revision 3 running api:1", dep.Revision, dep.Spec.Services[0].Image)
		}
	})
}
