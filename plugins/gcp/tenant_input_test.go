package gcp_test

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"

	"cloud.google.com/go/iam/apiv1/iampb"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/protobuf/proto"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/plugins/gcp"
	"github.com/alphaswarm/controller/plugins/gcp/internal/fakegcp"
	"github.com/alphaswarm/controller/sdk"
)

// TestTenantInputCannotChooseEndpointOrCredentials: of the configuration,
// tenants may set operation_timeout alone; and nothing a deployment holds
// (names, labels, env, command, secret references and values) chooses where
// the plugin's calls go, with which credentials, or in which project.
// Every value below names a second fake Google Cloud, another project or
// a credential file; apply must still call the configured fake alone, in
// the configured project and region.
func TestTenantInputCannotChooseEndpointOrCredentials(t *testing.T) {
	info, err := gcp.New().Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var settable []string
	for _, a := range info.ConfigSchema.Attributes {
		if a.TenantSettable {
			settable = append(settable, a.Name)
		}
	}
	if !slices.Equal(settable, []string{"operation_timeout"}) {
		t.Errorf("tenant-settable attributes %q, want operation_timeout alone", settable)
	}

	other, err := fakegcp.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer other.Stop()
	const otherProject = "other-project"
	credential := `{"type":"external_account","audience":"//iam.googleapis.com/x","credential_source":{"file":"/etc/passwd"}}`
	b := configured(t, nil)
	spec := oneService("endpoint", "registry.example/echo:1")
	svc := &spec.Services[0]
	svc.Command = []string{"/echo", "-endpoint", other.Addr()}
	svc.Labels = map[string]string{"endpoint": other.Addr(), "project": otherProject, "alphaswarm-tenant": "someone-else"}
	svc.Env = map[string]string{
		"GOOGLE_APPLICATION_CREDENTIALS":      "/etc/passwd",
		"GOOGLE_CLOUD_PROJECT":                otherProject,
		"CLOUDSDK_API_ENDPOINT_OVERRIDES_RUN": "http://" + other.Addr() + "/",
		"GOOGLE_CLOUD_UNIVERSE_DOMAIN":        other.Addr(),
		"ENDPOINT":                            other.Addr(),
	}
	refs := []string{"../../projects/" + otherProject + "/secrets/x", "projects/" + otherProject + "/secrets/y"}
	secrets := sdk.SecretValues{}
	for i, r := range refs {
		svc.SecretEnv = append(svc.SecretEnv, core.SecretRef{Env: "S" + string(rune('A'+i)), Ref: r})
		secrets[r] = credential
	}
	t.Cleanup(func() { b.Destroy(context.Background(), &sdk.DestroyRequest{Deployment: spec.Ref()}) })
	before := fake.AllCalls()
	if _, err := b.Apply(ctx(t), &sdk.ApplyRequest{Deployment: spec, Secrets: secrets}, func(core.Event) {}); err != nil {
		t.Fatalf("apply: %v", err)
	}
	if n := other.AllCalls(); n != 0 {
		t.Errorf("the deployment's values sent %d calls to another endpoint", n)
	}
	if fake.AllCalls() == before {
		t.Error("apply made no call to the configured endpoint")
	}
	services := servicesOf(spec.Ref())
	if len(services) != 1 {
		t.Fatalf("services %v, want api", slices.Collect(maps.Keys(services)))
	}
	for _, s := range services {
		if !strings.HasPrefix(s.Name, "projects/"+project+"/locations/"+region+"/services/") || strings.Count(s.Name, "/") != 5 {
			t.Errorf("service %s is not in the configured project and region", s.Name)
		}
		if s.Labels["alphaswarm-tenant"] != spec.Tenant {
			t.Errorf("the service's tenant label is %q, want %q", s.Labels["alphaswarm-tenant"], spec.Tenant)
		}
		if s.Template.ServiceAccount != "" {
			t.Errorf("the service runs as %q, which no operator set", s.Template.ServiceAccount)
		}
	}
	got := secretsOf(spec.Ref())
	if len(got) != len(refs) {
		t.Errorf("secrets %v, want one per reference", slices.Collect(maps.Keys(got)))
	}
	for name := range got {
		if !strings.HasPrefix(name, "projects/"+project+"/secrets/") || strings.Count(name, "/") != 3 {
			t.Errorf("secret %s is not in the configured project", name)
		}
	}
	for name := range fake.Secrets() {
		if strings.Contains(name, "projects/"+otherProject) {
			t.Errorf("a secret reference made secret %s in another project", name)
		}
	}
}

// TestTenantInputCannotGrantOnOthersServices: the invoker grants apply
// makes land on the deployment's own Cloud Run services alone. A tenant
// whose services depend on names of another tenant's or another
// deployment's services (bare, as Cloud Run service IDs, as full resource
// names, as paths), and whose env and labels name them, makes the plugin
// write no policy but its own called service's.
func TestTenantInputCannotGrantOnOthersServices(t *testing.T) {
	b := configured(t, map[string]any{"service_account": runner})
	victims := []core.DeploymentSpec{
		withDeps("victim", "shop", map[string][]string{"web": {"db"}, "db": nil}),
		withDeps("acme", "billing", map[string][]string{"db": nil}),
	}
	var names []string
	for _, v := range victims {
		t.Cleanup(func() { b.Destroy(context.Background(), &sdk.DestroyRequest{Deployment: v.Ref()}) })
		if _, err := b.Apply(ctx(t), &sdk.ApplyRequest{Deployment: v}, func(core.Event) {}); err != nil {
			t.Fatalf("apply %s: %v", v.Ref(), err)
		}
		for _, s := range servicesOf(v.Ref()) {
			names = append(names, s.Name)
		}
	}
	before := map[string]*iampb.Policy{}
	for _, n := range names {
		before[n] = fake.ServicePolicy(n)
	}
	victimDB := servicesOf(victims[0].Ref())["db"]

	spec := withDeps("acme", "shop", map[string][]string{"api": nil, "web": {"api"}})
	web := spec.Service("web")
	for _, n := range names {
		web.DependsOn = append(web.DependsOn, n, n[strings.LastIndex(n, "/")+1:])
	}
	web.DependsOn = append(web.DependsOn, "db", "../../victim/test/shop/db", "victim-test-shop-db")
	web.Env = map[string]string{"DB_URL": victimDB.Uri, "INVOKER": victimDB.Name, "ALPHASWARM_SERVICE_ACCOUNT": "attacker@evil.iam.gserviceaccount.com"}
	web.Labels = map[string]string{"alphaswarm-tenant": "victim", "alphaswarm-deployment": "billing"}
	t.Cleanup(func() { b.Destroy(context.Background(), &sdk.DestroyRequest{Deployment: spec.Ref()}) })
	sets := fake.Calls("Services/SetIamPolicy")
	if _, err := b.Apply(ctx(t), &sdk.ApplyRequest{Deployment: spec}, func(core.Event) {}); err != nil {
		t.Fatalf("apply: %v", err)
	}
	for _, n := range names {
		if after := fake.ServicePolicy(n); !proto.Equal(before[n], after) {
			t.Errorf("the policy of %s changed: %v, was %v", n, after, before[n])
		}
	}
	const invoker = "roles/run.invoker serviceAccount:" + runner
	if diff := cmp.Diff(map[string][]string{"api": {invoker}, "web": nil}, policiesOf(spec.Ref())); diff != "" {
		t.Errorf("the tenant's own policies (-want +got):\n%s", diff)
	}
	if n := fake.Calls("Services/SetIamPolicy") - sets; n != 1 {
		t.Errorf("apply wrote %d policies, want 1 (its own api's)", n)
	}
}
