package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// grantedToAcmeProd registers memory.sim for tenant acme in environment
// prod alone, and memory.other for no one.
const grantedToAcmeProd = `
backend "memory" "sim" {
  config {
    log_interval = "20ms"
  }
  grant {
    tenants      = ["acme"]
    environments = ["prod"]
  }
}

backend "memory" "other" {}
`

// TestBackendsAreTheOperators plans and applies on backends as tenants
// the operator did or did not grant them to: an ungranted tenant or
// environment is refused with 403 and audited, a backend granted to no
// one is invisible, and the listing shows each tenant only its own.
func TestBackendsAreTheOperators(t *testing.T) {
	t.Parallel()
	h := newHarnessOn(t, "sqlite", func(s *setup) { s.backends = grantedToAcmeProd })
	for _, tc := range []struct {
		tenant, env string
		want        int
	}{
		{"acme", "prod", http.StatusOK},
		{"acme", "staging", http.StatusForbidden},
		{"globex", "prod", http.StatusForbidden},
	} {
		code, out := h.do("POST", "/v1/plan", h.admin(tc.tenant), topology(tc.tenant, tc.env, "web"))
		if code != tc.want {
			t.Errorf("%s/%s plans on memory.sim: %d %s", tc.tenant, tc.env, code, out)
		}
		if code == http.StatusForbidden && !strings.Contains(string(out), "backend memory.sim is not granted to tenant "+tc.tenant+" in environment "+tc.env) {
			t.Errorf("%s/%s: the refusal does not say why: %s", tc.tenant, tc.env, out)
		}
	}
	if code, out := h.do("GET", "/v1/audit", h.admin("globex"), nil); code != 200 || !strings.Contains(string(out), "backend memory.sim is not granted to tenant globex") {
		t.Errorf("globex's audit log lacks the refusal: %d %s", code, out)
	}
	other := topology("acme", "prod", "web")
	files := other["files"].(map[string]string)
	files["main.hcl"] = strings.ReplaceAll(files["main.hcl"], "sim", "other")
	if code, out := h.do("POST", "/v1/plan", h.admin("acme"), other); code != http.StatusForbidden {
		t.Errorf("a backend granted to no one: %d %s", code, out)
	}
	for tenant, want := range map[string]string{"acme": `"id":"memory.sim"`, "globex": `"backends":[]`} {
		if code, out := h.do("GET", "/v1/backends", h.admin(tenant), nil); code != 200 || !strings.Contains(string(out), want) || strings.Contains(string(out), "20ms") {
			t.Errorf("%s's backends: %d %s", tenant, code, out)
		}
	}
}

// TestNodeDetailsAreTheOperatorsToShare reads the nodes of a backend a
// tenant deploys to: their details (labels, which count every tenant's
// workloads) show only when the operator registered the backend as shared
// openly; name, health and capacity always do.
func TestNodeDetailsAreTheOperatorsToShare(t *testing.T) {
	t.Parallel()
	for _, openly := range []bool{false, true} {
		h := newHarnessOn(t, "sqlite", func(s *setup) {
			s.backends = strings.Replace(s.backends, "  grant {", fmt.Sprintf("  shared_openly = %v\n  grant {", openly), 1)
		})
		h.deploy("acme", "prod", "web")
		code, body := h.do("GET", "/v1/nodes?backend=memory.sim", h.admin("acme"), nil)
		out := string(body)
		if code != 200 || !strings.Contains(out, `"health":"ready"`) || !strings.Contains(out, `"cpus"`) || strings.Contains(out, `"simulated"`) != openly {
			t.Errorf("shared openly %v: %d %s", openly, code, out)
		}
	}
}
