package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/alphaswarm/controller/core/auth"
	"github.com/alphaswarm/controller/core/auth/devissuer"
	"github.com/alphaswarm/controller/host/internal/api"
	"github.com/alphaswarm/controller/host/internal/backends"
	"github.com/alphaswarm/controller/host/internal/jobs"
	"github.com/alphaswarm/controller/host/internal/pluginmgr"
	"github.com/alphaswarm/controller/host/internal/store"
	"github.com/alphaswarm/controller/host/internal/testbin"
	"github.com/alphaswarm/controller/host/internal/testpg"
)

const audience = "https://api.alphaswarm.test"

var (
	pluginDir string
)

func TestMain(m *testing.M) {
	testpg.Main(m, func(tmp string) (err error) {
		pluginDir, err = testbin.PluginDir(tmp, false)
		return err
	})
}

// stores runs fn with a harness on SQLite and one on PostgreSQL.
func stores(t *testing.T, fn func(t *testing.T, h *harness)) {
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			fn(t, newHarnessOn(t, kind))
		})
	}
}

// harness is a real API server on loopback: SQLite store, the memory
// plugin as a real process, a devissuer, and a job worker tests drive.
type harness struct {
	t       *testing.T
	url     string
	iss     *devissuer.Issuer
	store   *store.Store
	worker  *jobs.Worker
	plugins *pluginmgr.Manager
}

func newHarness(t *testing.T) *harness { return newHarnessOn(t, "sqlite") }

// setup is what options adjust before a harness starts: the plugin
// manager's and the API's configuration, and the host configuration that
// registers backends (default: memory.sim for everyone).
type setup struct {
	plugins  pluginmgr.Config
	api      api.Config
	backends string
}

type option func(*setup)

// newHarnessOn starts a harness on kind's store, with options.
func newHarnessOn(t *testing.T, kind string, opts ...option) *harness {
	t.Helper()
	cfg := store.Config{DataDir: t.TempDir()}
	if kind == "postgres" {
		cfg = store.Config{DatabaseURL: testpg.SharedDatabase(t), StateKeys: []string{"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="}}
	}
	st, err := store.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	su := setup{plugins: pluginmgr.Config{PluginDirs: []string{pluginDir}, StartTimeout: 10 * time.Second},
		api: api.Config{Store: st, Heartbeat: time.Second}, backends: backends.ForEveryone("memory.sim")}
	for _, adjust := range opts {
		adjust(&su)
	}
	ac := su.api
	m := pluginmgr.New(su.plugins)
	t.Cleanup(m.Close)
	reg, err := backends.Open(context.Background(), su.backends, "test.hcl", nil, m)
	if err != nil {
		t.Fatal(err)
	}
	key, err := devissuer.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	iss, err := devissuer.Start("127.0.0.1:0", audience, key)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { iss.Close() })
	v, err := auth.New("auth0", auth.Config{Issuer: iss.URL, Audience: audience})
	if err != nil {
		t.Fatal(err)
	}
	ac.Plugins, ac.Verifier, ac.Backends = m, v, reg
	srv := httptest.NewServer(api.New(ac).Handler())
	t.Cleanup(srv.Close)
	w := &jobs.Worker{Store: st, Runner: &jobs.Executor{Store: st, Plugins: m, Backends: reg}, Owner: "test", Lease: 5 * time.Second, Poll: 20 * time.Millisecond}
	return &harness{t: t, url: srv.URL, iss: iss, store: st, worker: w, plugins: m}
}

// token mints a token of tenant granting envs and perms.
func (h *harness) token(tenant string, envs []string, perms ...auth.Permission) string {
	h.t.Helper()
	var ps []string
	for _, p := range perms {
		ps = append(ps, string(p))
	}
	tok, err := h.iss.Mint(devissuer.Claims{Subject: "user@" + tenant, Tenant: tenant, Environments: envs, Permissions: ps})
	if err != nil {
		h.t.Fatal(err)
	}
	return tok
}

func (h *harness) admin(tenant string) string {
	return h.token(tenant, []string{auth.AllEnvironments}, auth.AllPermissions()...)
}

// do sends a request; body may be nil, a string (sent as is) or a value
// (sent as JSON).
func (h *harness) do(method, path, token string, body any) (int, []byte) {
	h.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = bytes.NewBufferString(b)
	default:
		data, _ := json.Marshal(b)
		r = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, h.url+path, r)
	if err != nil {
		h.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// topology is a one-deployment topology on the memory backend.
func topology(tenant, env, name string) map[string]any {
	return map[string]any{"files": map[string]string{"main.hcl": fmt.Sprintf(`
backend "memory" "sim" {
  log_interval = "20ms"
}

deployment %q {
  tenant      = %q
  environment = %q
  backend     = backend.memory.sim

  service "api" {
    image    = "api:1"
    replicas = 2
  }
}
`, name, tenant, env)}}
}

// deploy applies a topology through the API and runs its jobs.
func (h *harness) deploy(tenant, env, name string) {
	h.t.Helper()
	code, body := h.do("POST", "/v1/apply", h.admin(tenant), topology(tenant, env, name))
	if code != http.StatusAccepted {
		h.t.Fatalf("apply %s/%s: %d %s", tenant, name, code, body)
	}
	h.drain()
}

// drain runs queued jobs until none is left.
func (h *harness) drain() {
	h.t.Helper()
	for {
		ran, err := h.worker.RunOne(context.Background(), context.Background())
		if err != nil {
			h.t.Fatal(err)
		}
		if !ran {
			return
		}
	}
}

func decodeJSON[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return v
}
