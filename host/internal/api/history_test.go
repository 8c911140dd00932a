package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// imageTopology is topology() with another image for its service.
func imageTopology(tenant, env, name, image string) map[string]any {
	t := topology(tenant, env, name)
	files := t["files"].(map[string]string)
	files["main.hcl"] = strings.Replace(files["main.hcl"], `"api:1"`, fmt.Sprintf("%q", image), 1)
	return t
}

// historyEntry is a revision as TestDestroyedNameAppliedAgain compares it.
type historyEntry struct {
	Number, Incarnation int
	Destroyed           bool
}

type deploymentAnswer struct {
	Revision    int
	Incarnation int
	Spec        struct{ Services []struct{ Image string } }
	Revisions   []struct {
		Number      int
		Incarnation int
		DestroyedAt *time.Time `json:"destroyed_at"`
		DestroyedBy string     `json:"destroyed_by"`
	}
}

func (d deploymentAnswer) history() []historyEntry {
	var out []historyEntry
	for _, r := range d.Revisions {
		out = append(out, historyEntry{r.Number, r.Incarnation, r.DestroyedAt != nil})
	}
	return out
}

// TestDestroyedNameAppliedAgain runs apply, destroy, apply of the same
// name, scale, rollback, destroy and apply through the API: every step
// succeeds, revision numbers go on across incarnations, rollback does not
// cross into a destroyed incarnation unless the revision is named, and
// then says so.
func TestDestroyedNameAppliedAgain(t *testing.T) {
	stores(t, func(t *testing.T, h *harness) {
		admin := h.admin("acme")
		get := func() deploymentAnswer {
			t.Helper()
			code, out := h.do("GET", "/v1/deployments/acme/web", admin, nil)
			if code != http.StatusOK {
				t.Fatalf("get: %d %s", code, out)
			}
			return decodeJSON[deploymentAnswer](t, out)
		}
		step := func(name, method, path string, body any) []byte {
			t.Helper()
			code, out := h.do(method, path, admin, body)
			if code != http.StatusAccepted {
				t.Fatalf("%s: %d %s", name, code, out)
			}
			h.drain()
			h.jobsSucceeded(admin, name)
			return out
		}
		step("apply", "POST", "/v1/apply", imageTopology("acme", "prod", "web", "api:1"))
		step("destroy", "POST", "/v1/deployments/acme/web/destroy", nil)
		step("apply again", "POST", "/v1/apply", imageTopology("acme", "prod", "web", "api:2"))
		if d := get(); d.Revision != 2 || d.Incarnation != 2 || d.Spec.Services[0].Image != "api:2" {
			t.Fatalf("after apply again: revision %d, incarnation %d, %+v", d.Revision, d.Incarnation, d.Spec)
		}
		step("scale", "POST", "/v1/deployments/acme/web/scale", map[string]any{"service": "api", "replicas": 3})

		code, out := h.do("POST", "/v1/deployments/acme/web/rollback", admin, nil)
		if code != http.StatusConflict || !strings.Contains(string(out), "in its current incarnation; revisions up to 1 belong to an incarnation destroyed at") {
			t.Fatalf("a rollback that would cross the destroy: %d %s", code, out)
		}
		out = step("rollback to revision 1", "POST", "/v1/deployments/acme/web/rollback", `{"revision": 1}`)
		if !strings.Contains(string(out), `"note":"revision 1 belongs to incarnation 1 of acme/prod/web, destroyed at `) {
			t.Errorf("the rollback across a destroy does not say so: %s", out)
		}
		if d := get(); d.Revision != 3 || d.Incarnation != 2 || d.Spec.Services[0].Image != "api:1" {
			t.Errorf("after rollback: revision %d, incarnation %d, %+v", d.Revision, d.Incarnation, d.Spec)
		}
		step("destroy again", "POST", "/v1/deployments/acme/web/destroy", nil)
		step("apply a third time", "POST", "/v1/apply", imageTopology("acme", "prod", "web", "api:3"))
		d := get()
		want := []historyEntry{{4, 3, false}, {3, 2, true}, {2, 2, true}, {1, 1, true}}
		if diff := cmp.Diff(want, d.history()); diff != "" || d.Revision != 4 || d.Incarnation != 3 {
			t.Errorf("history (-want +got):\n%s", diff)
		}
		if by := d.Revisions[1].DestroyedBy; by != "user@acme" {
			t.Errorf("revision 3 destroyed by %q, want user@acme", by)
		}
	})
}

// jobsSucceeded fails the test unless every job of the harness's store
// succeeded, naming the one that did not.
func (h *harness) jobsSucceeded(token, step string) {
	h.t.Helper()
	for id := int64(1); ; id++ {
		code, out := h.do("GET", fmt.Sprintf("/v1/jobs/%d", id), token, nil)
		if code == http.StatusNotFound {
			return
		}
		if j := decodeJSON[struct{ State, Error string }](h.t, out); j.State != "succeeded" {
			h.t.Fatalf("%s: job %d %s: %s", step, id, j.State, j.Error)
		}
	}
}
