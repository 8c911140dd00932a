package gcp_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/run/apiv2/runpb"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/encoding/prototext"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/plugins/gcp"
	"github.com/alphaswarm/controller/sdk"
)

// configured returns the backend, in process, configured against the fake.
func configured(t *testing.T, extra map[string]any) *gcp.Backend {
	t.Helper()
	b := gcp.New()
	info, _ := b.Info(context.Background())
	cfg, err := info.ConfigSchema.Normalize(config(extra)) // the defaults, as the SDK fills them in
	if err != nil {
		t.Fatalf("normalize: %v", err)
	}
	if _, err := b.Configure(context.Background(), &sdk.ConfigureRequest{Instance: "test", Config: cfg}); err != nil {
		t.Fatalf("configure: %v", err)
	}
	return b
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// servicesOf returns the fake's Cloud Run services of a deployment, by
// service name.
func servicesOf(ref core.DeploymentRef) map[string]*runpb.Service {
	out := map[string]*runpb.Service{}
	for _, s := range fake.Services() {
		if s.Labels["alphaswarm-tenant"] == ref.Tenant && s.Labels["alphaswarm-environment"] == ref.Environment && s.Labels["alphaswarm-deployment"] == ref.Name {
			out[s.Labels["alphaswarm-service"]] = s
		}
	}
	return out
}

func secretsOf(ref core.DeploymentRef) map[string][]string {
	out := map[string][]string{}
	for name, s := range fake.Secrets() {
		if s.Labels["alphaswarm-tenant"] == ref.Tenant && s.Labels["alphaswarm-deployment"] == ref.Name && s.Labels["alphaswarm-environment"] == ref.Environment {
			out[name] = s.Versions
		}
	}
	return out
}

func env(c *runpb.Container) map[string]string {
	out := map[string]string{}
	for _, e := range c.Env {
		if ref := e.GetValueSource().GetSecretKeyRef(); ref != nil {
			out[e.Name] = "secret:" + ref.Secret + "@" + ref.Version
		} else {
			out[e.Name] = e.GetValue()
		}
	}
	return out
}

func shop() core.DeploymentSpec {
	return core.DeploymentSpec{Tenant: "acme", Environment: "prod", Name: "shop", Services: []core.ServiceSpec{
		{
			Name: "db", Image: "registry.example/db:1", Replicas: 1,
			Ports:     []core.Port{{Name: "sql", Container: 5432, Protocol: core.ProtocolTCP}},
			SecretEnv: []core.SecretRef{{Env: "DB_PASSWORD", Ref: "shop/db-password"}},
			Resources: core.Resources{CPU: 0.5, MemoryBytes: 256 << 20},
			Health:    &core.HealthCheck{Kind: core.HealthCheckTCP, Port: "sql"},
		},
		{
			Name: "api", Image: "registry.example/api:1", Replicas: 3, Command: []string{"/api"}, Args: []string{"-v"},
			Ports:     []core.Port{{Name: "http", Container: 8080, Protocol: core.ProtocolTCP}},
			Env:       map[string]string{"MODE": "production"},
			SecretEnv: []core.SecretRef{{Env: "DB_PASSWORD", Ref: "shop/db-password"}},
			Resources: core.Resources{CPU: 2, MemoryBytes: 1 << 30},
			Health:    &core.HealthCheck{Kind: core.HealthCheckHTTP, Path: "/healthz", Port: "http", Retries: 4},
			DependsOn: []string{"db"},
			Labels:    map[string]string{"team": "payments", "Bad Label": "x"},
		},
	}}
}

// TestRequestContents applies a deployment and reads what the fake Cloud
// Run was asked for: names, labels, instance counts, sizes, probes,
// dependency URLs, and secrets as references to Secret Manager versions.
func TestRequestContents(t *testing.T) {
	const runner = "runner@alphaswarm-test.iam.gserviceaccount.com"
	b := configured(t, map[string]any{"service_account": runner})
	spec := shop()
	ref := spec.Ref()
	const password = "s3cret-value-of-the-db"
	resp, err := b.Apply(ctx(t), &sdk.ApplyRequest{Deployment: spec, Secrets: sdk.SecretValues{"shop/db-password": password}}, func(core.Event) {})
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	t.Cleanup(func() { b.Destroy(context.Background(), &sdk.DestroyRequest{Deployment: ref}) })

	services := servicesOf(ref)
	secrets := secretsOf(ref)
	if len(services) != 2 || len(secrets) != 1 {
		t.Fatalf("got services %v and secrets %v, want 2 and 1", slices.Collect(mapsKeys(services)), secrets)
	}
	var secretName string
	for name, versions := range secrets {
		secretName = name
		if readers := fake.Secrets()[name].Readers; !cmp.Equal([]string{"serviceAccount:" + runner}, readers) {
			t.Errorf("secret %s may be read by %q, want the runtime service account alone", name, readers)
		}
		if diff := cmp.Diff([]string{password}, versions); diff != "" {
			t.Errorf("secret versions (-want +got):\n%s", diff)
		}
	}
	db, api := services["db"], services["api"]
	for name, s := range services {
		id := s.Name[strings.LastIndex(s.Name, "/")+1:]
		if len(id) > 49 || !strings.HasPrefix(s.Name, "projects/"+project+"/locations/"+region+"/services/as-acme-prod-shop-"+name+"-") {
			t.Errorf("service %s is named %s", name, s.Name)
		}
		if text := prototext.Format(s); strings.Contains(text, password) {
			t.Errorf("the secret value is in the Cloud Run service %s:\n%s", name, text)
		}
		if got := s.GetScaling(); got.GetScalingMode() != runpb.ServiceScaling_MANUAL {
			t.Errorf("service %s scaling %v, want manual", name, got)
		}
	}
	wantLabels := map[string]string{"managed-by": "alphaswarm", "alphaswarm-tenant": "acme", "alphaswarm-environment": "prod",
		"alphaswarm-deployment": "shop", "alphaswarm-service": "api", "team": "payments"}
	if diff := cmp.Diff(wantLabels, api.Labels); diff != "" {
		t.Errorf("api labels (-want +got):\n%s", diff)
	}
	if n := api.GetScaling().GetManualInstanceCount(); n != 3 {
		t.Errorf("api instance count %d, want 3", n)
	}
	if api.Template.ServiceAccount != runner {
		t.Errorf("api runs as %q, want %s", api.Template.ServiceAccount, runner)
	}
	c := api.Template.Containers[0]
	wantEnv := map[string]string{"MODE": "production", "DB_URL": db.Uri, "DB_PASSWORD": "secret:" + secretName + "@1"}
	if diff := cmp.Diff(wantEnv, env(c)); diff != "" {
		t.Errorf("api env (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{"cpu": "2", "memory": "1024Mi"}, c.Resources.Limits); diff != "" {
		t.Errorf("api limits (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"/api", "-v", "registry.example/api:1"}, append(append(c.Command, c.Args...), c.Image)); diff != "" {
		t.Errorf("api command, args and image (-want +got):\n%s", diff)
	}
	if p := c.Ports; len(p) != 1 || p[0].ContainerPort != 8080 {
		t.Errorf("api ports %v, want one, 8080", p)
	}
	if g := c.StartupProbe.GetHttpGet(); g.GetPath() != "/healthz" || g.GetPort() != 8080 || c.StartupProbe.FailureThreshold != 4 {
		t.Errorf("api startup probe %v", c.StartupProbe)
	}
	if g := c.LivenessProbe.GetHttpGet(); g.GetPath() != "/healthz" || g.GetPort() != 8080 {
		t.Errorf("api liveness probe %v", c.LivenessProbe)
	}
	dc := db.Template.Containers[0]
	if dc.StartupProbe.GetTcpSocket().GetPort() != 5432 || dc.LivenessProbe != nil {
		t.Errorf("db probes: startup %v, liveness %v; want a TCP startup probe on 5432 only", dc.StartupProbe, dc.LivenessProbe)
	}
	if diff := cmp.Diff(map[string]string{"cpu": "1", "memory": "512Mi"}, dc.Resources.Limits); diff != "" {
		t.Errorf("db limits (-want +got):\n%s", diff)
	}

	// The plan says what Cloud Run does not honour as written.
	plan, err := b.Plan(ctx(t), &sdk.PlanRequest{Deployment: spec, PriorState: resp.State})
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	for _, c := range plan.Services {
		if c.Action != sdk.ActionNoop {
			t.Errorf("plan after apply: %s is %s %+v", c.Service, c.Action, c.Fields)
		}
	}
	for _, want := range []string{"api depends_on approximated", "db resources approximated", "api labels.Bad Label dropped", "db health approximated"} {
		if !slices.ContainsFunc(plan.Compatibility, func(n sdk.CompatibilityNote) bool {
			return n.Service+" "+n.Field+" "+string(n.Level) == want
		}) {
			t.Errorf("plan compatibility %+v lacks %q", plan.Compatibility, want)
		}
	}

	// A changed value is a new version, pinned by the services, which roll.
	resp, err = b.Apply(ctx(t), &sdk.ApplyRequest{Deployment: spec, PriorState: resp.State, Secrets: sdk.SecretValues{"shop/db-password": "rotated"}}, func(core.Event) {})
	if err != nil {
		t.Fatalf("apply a rotated secret: %v", err)
	}
	after := servicesOf(ref)["api"]
	if got := env(after.Template.Containers[0])["DB_PASSWORD"]; got != "secret:"+secretName+"@2" {
		t.Errorf("after rotation api reads %s, want version 2", got)
	}
	if after.LatestReadyRevision == api.LatestReadyRevision {
		t.Errorf("after rotation api still runs revision %s", after.LatestReadyRevision)
	}
	// The same value again adds nothing.
	if _, err = b.Apply(ctx(t), &sdk.ApplyRequest{Deployment: spec, PriorState: resp.State, Secrets: sdk.SecretValues{"shop/db-password": "rotated"}}, func(core.Event) {}); err != nil {
		t.Fatalf("apply again: %v", err)
	}
	if v := secretsOf(ref)[secretName]; len(v) != 2 {
		t.Errorf("after applying the same value again the secret has %d versions, want 2", len(v))
	}

	// Destroy removes the services and the secrets.
	if _, err := b.Destroy(ctx(t), &sdk.DestroyRequest{Deployment: ref, State: resp.State}); err != nil {
		t.Fatalf("destroy: %v", err)
	}
	if s, sec := servicesOf(ref), secretsOf(ref); len(s) != 0 || len(sec) != 0 {
		t.Errorf("after destroy: services %v, secrets %v", slices.Collect(mapsKeys(s)), sec)
	}
}

func mapsKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// TestTenantsKeepApart: two tenants' deployments of the same name and the
// same secret reference get services and secrets of their own, and
// destroying one leaves the other's.
func TestTenantsKeepApart(t *testing.T) {
	b := configured(t, nil)
	var refs []core.DeploymentRef
	for _, tenant := range []string{"red", "blue"} {
		spec := shop()
		spec.Tenant = tenant
		refs = append(refs, spec.Ref())
		if _, err := b.Apply(ctx(t), &sdk.ApplyRequest{Deployment: spec, Secrets: sdk.SecretValues{"shop/db-password": tenant + "-password"}}, func(core.Event) {}); err != nil {
			t.Fatalf("apply %s: %v", spec.Ref(), err)
		}
		t.Cleanup(func() { b.Destroy(context.Background(), &sdk.DestroyRequest{Deployment: spec.Ref()}) })
	}
	for i, ref := range refs {
		for _, versions := range secretsOf(ref) {
			if want := []string{[]string{"red", "blue"}[i] + "-password"}; !cmp.Equal(want, versions) {
				t.Errorf("%s's secret holds %q, want %q", ref, versions, want)
			}
		}
	}
	if _, err := b.Destroy(ctx(t), &sdk.DestroyRequest{Deployment: refs[0]}); err != nil {
		t.Fatalf("destroy: %v", err)
	}
	if n, s := len(servicesOf(refs[1])), len(secretsOf(refs[1])); n != 2 || s != 1 {
		t.Errorf("destroying %s left %s with %d services and %d secrets, want 2 and 1", refs[0], refs[1], n, s)
	}
}
