package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/core/auth"
	"github.com/alphaswarm/controller/core/auth/devissuer"
	"github.com/alphaswarm/controller/host/internal/api"
	"github.com/alphaswarm/controller/host/internal/api/wire"
	"github.com/alphaswarm/controller/host/internal/backends"
	"github.com/alphaswarm/controller/host/internal/jobs"
	"github.com/alphaswarm/controller/host/internal/pluginmgr"
	"github.com/alphaswarm/controller/host/internal/store"
	"github.com/alphaswarm/controller/sdk"
)

const audience = "https://api.alphaswarm.bench"

// trustAll is the baseline's verifier: it accepts any request as one
// principal, so the same handler runs without token verification.
type trustAll struct{ p *auth.Principal }

func (v trustAll) Verify(context.Context, string) (*auth.Principal, error) { return v.p, nil }

// apiEnv is a store with deployments, the memory plugin, and two API
// servers on loopback: one verifying tokens, one trusting every request.
type apiEnv struct {
	store                 *store.Store
	plugins               *pluginmgr.Manager
	backends              *backends.Registry
	authorized, unchecked *httptest.Server
	token                 string
	ref                   core.DeploymentRef
}

func newAPIEnv(b *testing.B) *apiEnv {
	ctx := context.Background()
	s, err := store.Open(ctx, store.Config{DataDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	m := pluginmgr.New(pluginmgr.Config{PluginDirs: []string{filepath.Dir(memoryPlugin)}})
	b.Cleanup(m.Close)
	reg, err := backends.Open(ctx, backends.ForEveryone("memory.sim"), "bench.hcl", nil, m)
	if err != nil {
		b.Fatal(err)
	}
	key, err := devissuer.NewKey()
	if err != nil {
		b.Fatal(err)
	}
	iss, err := devissuer.Start("127.0.0.1:0", audience, key)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { iss.Close() })
	v, err := auth.New("auth0", auth.Config{Issuer: iss.URL, Audience: audience})
	if err != nil {
		b.Fatal(err)
	}
	perms := []string{string(auth.DeploymentsRead), string(auth.DeploymentsLogs)}
	token, err := iss.Mint(devissuer.Claims{Subject: "bench", Tenant: "bench", Environments: []string{"*"}, Permissions: perms, TTL: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	p := &auth.Principal{Subject: "bench", Tenant: "bench", Environments: []string{"*"}, Permissions: []auth.Permission{auth.DeploymentsRead, auth.DeploymentsLogs}}
	e := &apiEnv{store: s, plugins: m, backends: reg, token: token,
		authorized: httptest.NewServer(api.New(api.Config{Store: s, Plugins: m, Backends: reg, Verifier: v}).Handler()),
		unchecked:  httptest.NewServer(api.New(api.Config{Store: s, Plugins: m, Backends: reg, Verifier: trustAll{p}}).Handler())}
	b.Cleanup(e.authorized.Close)
	b.Cleanup(e.unchecked.Close)
	e.deploy(b)
	return e
}

// deploy applies 20 deployments of tenant bench through the job layer;
// the last one logs every millisecond, for the log relay.
func (e *apiEnv) deploy(b *testing.B) {
	ctx := context.Background()
	w := &jobs.Worker{Store: e.store, Runner: &jobs.Executor{Store: e.store, Plugins: e.plugins, Backends: e.backends}, Owner: "bench"}
	backend := jobs.Backend{Type: "memory", Name: "sim", Config: json.RawMessage(`{"log_interval": "1ms"}`)}
	for i := range 20 {
		spec := core.DeploymentSpec{Tenant: "bench", Environment: "prod", Name: fmt.Sprintf("app-%02d", i),
			Services: []core.ServiceSpec{{Name: "web", Image: "web:1", Replicas: 2}}}
		if _, err := e.store.Enqueue(ctx, store.NewJob{Deployment: spec.Ref(), Kind: string(wire.OpApply), Payload: jobs.Payload{Backend: backend, Spec: &spec}, CreatedBy: "bench"}); err != nil {
			b.Fatal(err)
		}
		e.ref = spec.Ref()
	}
	for {
		ran, err := w.RunOne(ctx, ctx)
		if err != nil {
			b.Fatal(err)
		}
		if !ran {
			break
		}
	}
	time.Sleep(time.Second) // a second of log history per replica
}

func get(b *testing.B, url, token string) error {
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != 200 {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return nil
}

// BenchmarkAPI compares authorized reads with the same handler behind a
// verifier that trusts every request (api_read_*), and a service's logs
// relayed plugin -> host -> HTTP client with the same lines read from the
// plugin directly over gRPC (api_logs_*). Medians per request.
func BenchmarkAPI(b *testing.B) {
	e := newAPIEnv(b)
	const reads = 50
	b.Run("read", func(b *testing.B) {
		var authorized, unchecked durations
		for b.Loop() {
			for _, side := range []struct {
				d   *durations
				url string
			}{{&authorized, e.authorized.URL}, {&unchecked, e.unchecked.URL}} {
				side.d.call(b, func() error {
					for range reads {
						if err := get(b, side.url+"/v1/deployments", e.token); err != nil {
							return err
						}
					}
					return nil
				})
			}
		}
		perRead := func(ds durations) durations {
			for i := range ds {
				ds[i] /= reads
			}
			return ds
		}
		perRead(authorized).report(b, "api_read_authorized")
		perRead(unchecked).report(b, "api_read_unchecked")
	})
	b.Run("logs", func(b *testing.B) {
		d, err := e.store.Deployment(context.Background(), e.ref)
		if err != nil {
			b.Fatal(err)
		}
		inst := e.plugins.Instance("bench/memory.sim")
		c, err := inst.Client(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		url := fmt.Sprintf("%s/v1/deployments/bench/%s/services/web/logs?tail=500", e.authorized.URL, e.ref.Name)
		var relayed, direct durations
		for b.Loop() {
			relayed.call(b, func() error { return get(b, url, e.token) })
			direct.call(b, func() error {
				return c.Logs(context.Background(), &sdk.LogsRequest{Deployment: e.ref, State: d.State, Service: "web", Tail: 500}, func(sdk.LogLine) error { return nil })
			})
		}
		relayed.report(b, "api_logs_relayed")
		direct.report(b, "api_logs_grpc")
	})
}
