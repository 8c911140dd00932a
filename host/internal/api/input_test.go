package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/alphaswarm/controller/core/auth"
)

// TestBadInput sends malformed, oversized and out-of-range requests: each
// gets its status and a problem document naming the field at fault.
func TestBadInput(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.deploy("acme", "prod", "web")
	admin := h.admin("acme")
	huge := `{"files": {"main.hcl": "` + strings.Repeat("#", 17<<20) + `"}}`
	tests := []struct {
		name, method, path string
		body               any
		status             int
		field, detail      string
	}{
		{"malformed JSON", "POST", "/v1/plan", `{"files": `, 400, "", "malformed JSON"},
		{"not an object", "POST", "/v1/plan", `[1, 2]`, 400, "", "must be"},
		{"trailing data", "POST", "/v1/plan", `{"files": {"a.hcl": ""}} {}`, 400, "", "after its JSON object"},
		{"empty body", "POST", "/v1/apply", ``, 400, "", "body is empty"},
		{"unknown field", "POST", "/v1/plan", `{"files": {}, "fiels": {}}`, 400, "fiels", `unknown field "fiels"`},
		{"wrong type", "POST", "/v1/plan", `{"files": ["main.hcl"]}`, 400, "files", "files must be"},
		{"no files", "POST", "/v1/plan", `{"files": {}}`, 400, "files", "files is empty"},
		{"oversized body", "POST", "/v1/apply", huge, 413, "", "exceeds 4194304 bytes"},
		{"bad file name", "POST", "/v1/plan", map[string]any{"files": map[string]string{"../etc/passwd.hcl": ""}}, 400, "files", "topology has errors"},
		{"topology error", "POST", "/v1/plan", map[string]any{"files": map[string]string{"main.hcl": "deployment \"x\" {\n  tenant = 42\n"}}, 400, "files", "topology has errors"},
		{"bad tenant", "GET", "/v1/deployments/Acme!/web", nil, 400, "tenant", "not a valid name"},
		{"bad name", "POST", "/v1/deployments/acme/web_1/restart", nil, 400, "name", "not a valid name"},
		{"bad environment", "GET", "/v1/deployments/acme/web?environment=PROD", nil, 400, "environment", "not a valid name"},
		{"replicas out of range", "POST", "/v1/deployments/acme/web/scale", `{"service": "api", "replicas": 1001}`, 400, "replicas", "outside 0..1000"},
		{"negative replicas", "POST", "/v1/deployments/acme/web/scale", `{"service": "api", "replicas": -1}`, 400, "replicas", "outside 0..1000"},
		{"scale without replicas", "POST", "/v1/deployments/acme/web/scale", `{"service": "api"}`, 400, "replicas", "needs service and replicas"},
		{"scale without service", "POST", "/v1/deployments/acme/web/scale", `{"replicas": 2}`, 400, "service", "needs service and replicas"},
		{"replicas as a string", "POST", "/v1/deployments/acme/web/scale", `{"service": "api", "replicas": "3"}`, 400, "replicas", "replicas must be int"},
		{"unknown service", "POST", "/v1/deployments/acme/web/restart", `{"service": "nope"}`, 400, "service", `no service "nope"`},
		{"replicas on restart", "POST", "/v1/deployments/acme/web/restart", `{"replicas": 2}`, 400, "replicas", "scale only"},
		{"service on destroy", "POST", "/v1/deployments/acme/web/destroy", `{"service": "api"}`, 400, "service", "takes no service"},
		{"bad tail", "GET", "/v1/deployments/acme/web/services/api/logs?tail=-3", nil, 400, "tail", "0..100000"},
		{"bad since", "GET", "/v1/deployments/acme/web/services/api/logs?since=yesterday", nil, 400, "since", "RFC 3339"},
		{"bad follow", "GET", "/v1/deployments/acme/web/services/api/logs?follow=maybe", nil, 400, "follow", "true or false"},
		{"logs of no service", "GET", "/v1/deployments/acme/web/services/nope/logs", nil, 404, "", `no service "nope"`},
		{"exec without command", "GET", "/v1/deployments/acme/web/services/api/exec", nil, 400, "command", "1..64"},
		{"bad job id", "GET", "/v1/jobs/x1", nil, 400, "id", "positive integer"},
		{"missing job", "GET", "/v1/jobs/999999", nil, 404, "", "not found"},
		{"bad audit limit", "GET", "/v1/audit?limit=5000", nil, 400, "limit", "1..1000"},
		{"nodes without backend", "GET", "/v1/nodes", nil, 400, "backend", "backend must name"},
		{"unknown route", "GET", "/v1/nope", nil, 404, "", "no route"},
		{"wrong method", "DELETE", "/v1/deployments", nil, 405, "", "not allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, body := h.do(tt.method, tt.path, admin, tt.body)
			p := decodeJSON[struct {
				Status int
				Field  string
				Detail string
			}](t, body)
			if code != tt.status || p.Status != tt.status || p.Field != tt.field || !strings.Contains(p.Detail, tt.detail) {
				t.Errorf("got %d %s; want %d field %q detail containing %q", code, body, tt.status, tt.field, tt.detail)
			}
		})
	}
}

// TestTopologyDiagnosticsPointAtSource checks that a topology error comes
// back with its file, line and column.
func TestTopologyDiagnosticsPointAtSource(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	body := map[string]any{"files": map[string]string{"main.hcl": "backend \"memory\" \"sim\" {}\n\ndeployment \"web\" {\n  tenant = \"acme\"\n  environment = \"prod\"\n  backend = backend.memory.sim\n  service \"api\" {\n    image = \"api:1\"\n    replicas = \"many\"\n  }\n}\n"}}
	code, out := h.do("POST", "/v1/plan", h.token("acme", []string{"prod"}, auth.DeploymentsDeploy), body)
	if code != http.StatusBadRequest {
		t.Fatalf("got %d %s", code, out)
	}
	p := decodeJSON[struct {
		Diagnostics []struct {
			File    string
			Line    int
			Summary string
		}
	}](t, out)
	if len(p.Diagnostics) == 0 || p.Diagnostics[0].File != "main.hcl" || p.Diagnostics[0].Line != 9 {
		t.Errorf("diagnostics %+v, want one at main.hcl:9", p.Diagnostics)
	}
}
