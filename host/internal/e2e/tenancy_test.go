package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// tenantClient calls the API of a dev-mode host as one tenant.
type tenantClient struct {
	t            *testing.T
	url, token   string
	tenant, name string
}

func (d *devServer) as(t *testing.T, tenant string, permissions string) *tenantClient {
	t.Helper()
	code, out, errOut := swarmctl(t, "dev", "token", "-dir", d.dir, "-tenant", tenant, "-permissions", permissions)
	if code != 0 {
		t.Fatalf("dev token: %s%s", out, errOut)
	}
	return &tenantClient{t: t, url: d.url, token: strings.TrimSpace(out), tenant: tenant}
}

// call sends a request and returns the status and body.
func (c *tenantClient) call(method, path string, body any) (int, string) {
	c.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	default:
		data, _ := json.Marshal(b)
		r = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, c.url+path, r)
	if err != nil {
		c.t.Fatal(err)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out)
}

// files is a plan or apply body of one main.hcl.
func files(src string) map[string]any {
	return map[string]any{"files": map[string]string{"main.hcl": src}}
}

// echoDeployment is a one-service deployment on compose.local, whose block
// holds extra (a backend setting a tenant tries).
func echoDeployment(tenant, env, name, extra string) string {
	return fmt.Sprintf(`
backend "compose" "local" {
%s
}

deployment %q {
  tenant      = %q
  environment = %q
  backend     = backend.compose.local

  service "web" {
    image      = "alphaswarm/echo:e2e-v1"
    secret_env = { DB = secret("db") }
  }
}
`, extra, name, tenant, env)
}

// TestTenantsCannotReachEachOther runs, through a real host with the
// Docker Engine, what a hostile tenant would try against another: each row
// is refused with a clear problem or is harmless, nothing of the other
// tenant changes or shows, and the host stays up with bounded memory.
func TestTenantsCannotReachEachOther(t *testing.T) {
	bin, err := buildDevBin()
	if err != nil {
		t.Fatal(err)
	}
	prefix := fmt.Sprintf("i%x", rand.Uint32())
	d := launchDev(t, filepath.Join(bin, "swarmctl"), t.TempDir(), composePrefixConfig(t, prefix),
		"ALPHASWARM_TENANT_SECRET_A__DB=secret-of-a", "ALPHASWARM_TENANT_SECRET_A_HB__DB=secret-of-a-b", "ALPHASWARM_SECRET_DB=the-operators")
	d.waitReady(t)
	a, ab := d.as(t, "a", "all"), d.as(t, "a-b", "all")
	t.Cleanup(func() {
		for _, c := range []*tenantClient{a, ab} {
			for _, name := range []string{"shop", "thief"} {
				c.call("POST", "/v1/deployments/"+c.tenant+"/"+name+"/destroy", nil)
			}
		}
		for _, p := range []string{prefix + "_a_b-c_shop", prefix + "_a-b_c_shop"} {
			removeContainers(t, p)
		}
	})

	// Tenants a (environment b-c) and a-b (environment c) deploy the same
	// name: joined with '-' both would be a-b-c-shop.
	apply := func(c *tenantClient, env, name, extra string) {
		t.Helper()
		code, out := c.call("POST", "/v1/apply", files(echoDeployment(c.tenant, env, name, extra)))
		if code != http.StatusAccepted {
			t.Fatalf("%s applies %s: %d %s", c.tenant, name, code, out)
		}
		var applied struct{ Jobs []struct{ ID int64 } }
		json.Unmarshal([]byte(out), &applied)
		if code, out, errOut := swarmctl(t, "jobs", "-f", strconv.FormatInt(applied.Jobs[0].ID, 10)); code != 0 {
			t.Fatalf("%s's apply of %s: %s%s", c.tenant, name, out, errOut)
		}
	}
	t.Setenv("ALPHASWARM_CONTROLLER_URL", d.url)
	t.Setenv("ALPHASWARM_TOKEN", a.token)
	apply(a, "b-c", "shop", "")
	t.Setenv("ALPHASWARM_TOKEN", ab.token)
	apply(ab, "c", "shop", "")
	for _, tc := range []struct{ project, tenant, secret string }{
		{prefix + "_a_b-c_shop", "a", "DB=secret-of-a"},
		{prefix + "_a-b_c_shop", "a-b", "DB=secret-of-a-b"},
	} {
		ids := containerIDs(t, tc.project)
		if len(ids) != 1 {
			t.Fatalf("project %s has %d containers, want 1", tc.project, len(ids))
		}
		env, _ := dockerCLI("inspect", "-f", "{{.Config.Env}} {{index .Config.Labels \"io.alphaswarm.tenant\"}}", ids[0])
		if !strings.Contains(env, tc.secret) || !strings.HasSuffix(strings.TrimSpace(env), " "+tc.tenant) {
			t.Errorf("tenant %s's container: %s", tc.tenant, env)
		}
	}

	refused := []struct {
		name, method, path string
		by                 *tenantClient
		body               any
		status             int
		says               string
	}{
		{"read another tenant's deployment", "GET", "/v1/deployments/a/shop", ab, nil, 404, "deployment a/shop not found"},
		{"read its logs", "GET", "/v1/deployments/a/shop/services/web/logs?tail=5", ab, nil, 404, "not found"},
		{"stop it", "POST", "/v1/deployments/a/shop/stop", ab, nil, 404, "not found"},
		{"destroy it", "POST", "/v1/deployments/a/shop/destroy", ab, nil, 404, "not found"},
		{"deploy as the other tenant", "POST", "/v1/plan", ab, files(echoDeployment("a", "b-c", "shop", "")), 403, `the token's tenant is \"a-b\", not \"a\"`},
		{"choose the engine's address", "POST", "/v1/plan", ab, files(echoDeployment("a-b", "c", "thief", `  host = "tcp://10.0.0.1:2375"`)), 422, `\"host\" of backend compose.local belongs to the operator`},
		{"choose the project prefix", "POST", "/v1/plan", ab, files(echoDeployment("a-b", "c", "thief", `  project_prefix = "`+prefix+`_a_b"`)), 422, `\"project_prefix\" of backend compose.local belongs to the operator`},
		{"choose TLS files of the host", "POST", "/v1/plan", ab, files(echoDeployment("a-b", "c", "thief", "  tls {\n    ca_file = \"/etc/shadow\"\n    cert_file = \"/etc/shadow\"\n    key_file = \"/etc/shadow\"\n  }")), 422, `\"tls\" of backend compose.local belongs to the operator`},
		{"a backend no one registered", "POST", "/v1/plan", ab, files(strings.NewReplacer("compose.local", "compose.other", `"local"`, `"other"`).Replace(echoDeployment("a-b", "c", "thief", ""))), 422, "Backend not registered"},
		{"plan with a read-only token", "POST", "/v1/plan", d.as(t, "a-b", "deployments:read"), files(strings.Repeat("(", 100_000)), 403, "missing permission deployments:deploy"},
		{"nesting that would take the stack", "POST", "/v1/plan", ab, files("locals {\n  x = " + strings.Repeat("[", 200_000) + strings.Repeat("]", 200_000) + "\n}\n"), 400, "Nesting too deep"},
		{"comprehensions that would take the memory", "POST", "/v1/plan", ab, files("locals {\n  x = [for i in range(1024): [for j in range(1024): [i, j]]]\n}\n"), 400, "Value too large"},
		{"a body over the limit", "POST", "/v1/plan", ab, files(strings.Repeat("#", 5<<20)), 413, "exceeds 4194304 bytes"},
		{"a huge path without a token", "GET", "/v1/deployments/a/" + strings.Repeat("x", 900<<10), &tenantClient{t: t, url: d.url}, nil, 431, ""},
	}
	for _, row := range refused {
		code, out := row.by.call(row.method, row.path, row.body)
		if code != row.status || !strings.Contains(out, row.says) {
			t.Errorf("%s: %d %.300s\nwant %d saying %q", row.name, code, out, row.status, row.says)
		}
		if strings.Contains(out, "secret-of-") || strings.Contains(out, "the-operators") {
			t.Errorf("%s: the answer shows a secret: %.300s", row.name, out)
		}
	}

	// A tenant naming a secret it does not have gets its own namespace's
	// refusal, never another tenant's value or the operator's.
	c := d.as(t, "c", "all")
	code, out := c.call("POST", "/v1/apply", files(echoDeployment("c", "dev", "thief", "")))
	var applied struct{ Jobs []struct{ ID int64 } }
	json.Unmarshal([]byte(out), &applied)
	if code != http.StatusAccepted || len(applied.Jobs) != 1 {
		t.Fatalf("c's apply: %d %s", code, out)
	}
	t.Setenv("ALPHASWARM_TOKEN", c.token)
	_, jobOut, jobErr := swarmctl(t, "jobs", "-f", strconv.FormatInt(applied.Jobs[0].ID, 10))
	if !strings.Contains(jobOut+jobErr, "ALPHASWARM_TENANT_SECRET_C__DB is not set") || strings.Contains(jobOut+jobErr, "secret-of-") {
		t.Errorf("c's apply of a secret it lacks:\n%s%s", jobOut, jobErr)
	}

	for _, tc := range []struct {
		by      *tenantClient
		project string
	}{{a, prefix + "_a_b-c_shop"}, {ab, prefix + "_a-b_c_shop"}} {
		code, out := tc.by.call("GET", "/v1/deployments/"+tc.by.tenant+"/shop", nil)
		if code != 200 || !strings.Contains(out, `"health":"ready"`) || len(containerIDs(t, tc.project)) != 1 {
			t.Errorf("tenant %s's deployment after the attempts: %d %.200s", tc.by.tenant, code, out)
		}
	}
	if rss := residentMiB(t, d.cmd.Process.Pid); rss > 1024 {
		t.Errorf("the host holds %d MiB after the attempts", rss)
	}
}

// residentMiB is a process's resident memory, from /proc.
func residentMiB(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatalf("the host is gone: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return kb / 1024
		}
	}
	return 0
}
