package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/core/auth"
)

// route is one API route as the RBAC matrix calls it.
type route struct {
	name   string
	method string
	path   func(tenant string, job int64) string
	body   func(tenant, env string) any
	perm   auth.Permission
	ok     int  // the status when allowed
	scoped bool // names a tenant's deployment or job: another tenant's is 404
	create bool // names its target in the body: another tenant is 403
	ws     bool // a WebSocket upgrade
}

func dep(suffix string) func(string, int64) string {
	return func(tenant string, _ int64) string { return "/v1/deployments/" + tenant + "/web" + suffix }
}

func fixed(path string) func(string, int64) string { return func(string, int64) string { return path } }

func jobPath(suffix string) func(string, int64) string {
	return func(_ string, job int64) string { return fmt.Sprintf("/v1/jobs/%d%s", job, suffix) }
}

var routes = []route{
	{name: "list deployments", method: "GET", path: fixed("/v1/deployments"), perm: auth.DeploymentsRead, ok: 200},
	{name: "get deployment", method: "GET", path: dep(""), perm: auth.DeploymentsRead, ok: 200, scoped: true},
	{name: "destroy", method: "POST", path: dep("/destroy"), perm: auth.DeploymentsDestroy, ok: 202, scoped: true},
	{name: "restart", method: "POST", path: dep("/restart"), perm: auth.DeploymentsRestart, ok: 202, scoped: true},
	{name: "start", method: "POST", path: dep("/start"), perm: auth.DeploymentsRestart, ok: 202, scoped: true},
	{name: "stop", method: "POST", path: dep("/stop"), perm: auth.DeploymentsRestart, ok: 202, scoped: true},
	{name: "scale", method: "POST", path: dep("/scale"), body: func(string, string) any { return map[string]any{"service": "api", "replicas": 3} },
		perm: auth.DeploymentsScale, ok: 202, scoped: true},
	{name: "rollback", method: "POST", path: dep("/rollback"), body: func(string, string) any { return map[string]any{"revision": 1} },
		perm: auth.DeploymentsDeploy, ok: 202, scoped: true},
	{name: "logs", method: "GET", path: dep("/services/api/logs?tail=1"), perm: auth.DeploymentsLogs, ok: 200, scoped: true},
	{name: "exec", method: "GET", path: dep("/services/api/exec?command=echo&command=hi"), perm: auth.DeploymentsExec, ok: 101, scoped: true, ws: true},
	{name: "metrics", method: "GET", path: dep("/metrics"), perm: auth.DeploymentsRead, ok: 200, scoped: true},
	{name: "nodes", method: "GET", path: fixed("/v1/nodes?backend=memory.sim"), perm: auth.BackendsRead, ok: 200},
	{name: "job", method: "GET", path: jobPath(""), perm: auth.DeploymentsRead, ok: 200, scoped: true},
	{name: "job events", method: "GET", path: jobPath("/events"), perm: auth.DeploymentsRead, ok: 200, scoped: true},
	{name: "backends", method: "GET", path: fixed("/v1/backends"), perm: auth.BackendsRead, ok: 200},
	{name: "audit", method: "GET", path: fixed("/v1/audit"), perm: auth.AuditRead, ok: 200},
	{name: "plan", method: "POST", path: fixed("/v1/plan"), body: func(t, e string) any { return topology(t, e, "web") }, perm: auth.DeploymentsDeploy, ok: 200, create: true},
	{name: "apply", method: "POST", path: fixed("/v1/apply"), body: func(t, e string) any { return topology(t, e, "web") }, perm: auth.DeploymentsDeploy, ok: 202, create: true},
}

// TestRBACMatrix calls every route with a token holding each single
// permission (and none), on the caller's own tenant, on its own tenant in
// an environment it is not granted, and on another tenant.
func TestRBACMatrix(t *testing.T) {
	stores(t, func(t *testing.T, h *harness) {
		h.deploy("acme", "prod", "web")
		h.deploy("globex", "prod", "web")
		jobOf := map[string]int64{}
		for _, tenant := range []string{"acme", "globex"} {
			js, err := h.store.Jobs(t.Context(), core.DeploymentRef{Tenant: tenant, Environment: "prod", Name: "web"})
			if err != nil || len(js) != 1 {
				t.Fatalf("jobs of %s: %v %v", tenant, js, err)
			}
			jobOf[tenant] = js[0].ID
		}
		perms := append([]auth.Permission{""}, auth.AllPermissions()...)
		for _, rt := range routes {
			for _, perm := range perms {
				for _, target := range []struct{ tenant, env, grant string }{{"acme", "prod", "prod"}, {"acme", "prod", "staging"}, {"globex", "prod", "prod"}} {
					if !rt.scoped && !rt.create && target != (struct{ tenant, env, grant string }{"acme", "prod", "prod"}) {
						continue
					}
					want := expected(rt, perm, target.tenant == "acme", target.grant == target.env)
					name := fmt.Sprintf("%s/%s/%s-%s-granted-%s", rt.name, orNone(perm), target.tenant, target.env, target.grant)
					t.Run(name, func(t *testing.T) {
						token := h.token("acme", []string{target.grant}, nonEmpty(perm)...)
						got, body := h.call(rt, token, target.tenant, target.env, jobOf[target.tenant])
						if got != want {
							t.Errorf("got %d, want %d: %s", got, want, body)
						}
						if got == 200 && rt.name == "list deployments" && strings.Contains(body, "globex") {
							t.Errorf("acme's listing shows globex: %s", body)
						}
					})
				}
			}
		}
	})
}

func expected(rt route, perm auth.Permission, ownTenant, grantedEnv bool) int {
	visible := ownTenant && grantedEnv
	switch {
	case rt.scoped && !visible:
		return http.StatusNotFound
	case rt.create && !visible:
		return http.StatusForbidden
	case perm != rt.perm:
		return http.StatusForbidden
	}
	return rt.ok
}

func (h *harness) call(rt route, token, tenant, env string, job int64) (int, string) {
	h.t.Helper()
	path := rt.path(tenant, job)
	if rt.ws {
		hdr := http.Header{"Authorization": {"Bearer " + token}}
		conn, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(h.url, "http")+path, hdr)
		if err == nil {
			conn.Close()
			return resp.StatusCode, ""
		}
		if resp == nil {
			h.t.Fatal(err)
		}
		return resp.StatusCode, err.Error()
	}
	var body any
	if rt.body != nil {
		body = rt.body(tenant, env)
	}
	code, out := h.do(rt.method, path, token, body)
	return code, string(out)
}

func orNone(p auth.Permission) string {
	if p == "" {
		return "none"
	}
	return string(p)
}

func nonEmpty(p auth.Permission) []auth.Permission {
	if p == "" {
		return nil
	}
	return []auth.Permission{p}
}
