package azure_test

import (
	"strings"
	"testing"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/sdk"
)

// TestPeersByTopologyName applies services that depend on others and
// reads their env: each gets <DEP>_HOST and <DEP>_URL with the FQDN that
// Azure gives the dependency's ingress (internal, or external when
// published), none for a dependency without a port, the topology's own
// value where it sets one; plan reports the approximation.
func TestPeersByTopologyName(t *testing.T) {
	t.Parallel()
	b := configured(t, nil)
	http := []core.Port{{Name: "http", Container: 8080, Protocol: core.ProtocolTCP}}
	spec := core.DeploymentSpec{Tenant: "acme", Environment: "prod", Name: "peers", Services: []core.ServiceSpec{
		{Name: "user-db", Image: "registry.example/db:1", Replicas: 1, Ports: http},
		{Name: "front", Image: "registry.example/front:1", Replicas: 1,
			Ports: []core.Port{{Name: "http", Container: 8080, Host: 80, Protocol: core.ProtocolTCP}}},
		{Name: "worker", Image: "registry.example/worker:1", Replicas: 1},
		{Name: "api", Image: "registry.example/api:1", Replicas: 1, Ports: http,
			DependsOn: []string{"user-db", "front", "worker"}, Env: map[string]string{"FRONT_HOST": "front.example"}},
	}}
	plan, err := b.Plan(ctxFor(t), &sdk.PlanRequest{Deployment: spec})
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	var notes []string
	for _, n := range plan.Compatibility {
		if n.Service == "api" && n.Field == "depends_on" {
			notes = append(notes, n.Detail)
		}
	}
	if all := strings.Join(notes, "\n"); !strings.Contains(all, "$USER_DB_URL") || !strings.Contains(all, "worker has no port") {
		t.Errorf("plan's depends_on notes of api do not name the variables:\n%s", all)
	}
	resp, err := b.Apply(ctxFor(t), &sdk.ApplyRequest{Deployment: spec}, func(core.Event) {})
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	t.Cleanup(func() { destroy(t, b, spec.Ref(), resp.State) })
	fqdn := func(service string) string {
		in := appOf(t, spec.Ref(), service).Model.Properties.Configuration.Ingress
		if in == nil || in.Fqdn == nil {
			t.Fatalf("the app of %s has no FQDN", service)
		}
		return *in.Fqdn
	}
	env := map[string]string{}
	for _, e := range appOf(t, spec.Ref(), "api").Model.Properties.Template.Containers[0].Env {
		if e.Value != nil {
			env[*e.Name] = *e.Value
		}
	}
	db, front := fqdn("user-db"), fqdn("front")
	if !strings.Contains(db, ".internal.") || strings.Contains(front, ".internal.") {
		t.Errorf("FQDNs %s and %s: want user-db internal, front external", db, front)
	}
	want := map[string]string{"USER_DB_HOST": db, "USER_DB_URL": "https://" + db, "FRONT_URL": "https://" + front, "FRONT_HOST": "front.example"}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("api's $%s = %q, want %q", k, env[k], v)
		}
	}
	for k := range env {
		if strings.HasPrefix(k, "WORKER_") {
			t.Errorf("api has $%s for worker, which has no port", k)
		}
	}
	for _, e := range appOf(t, spec.Ref(), "user-db").Model.Properties.Template.Containers[0].Env {
		if strings.HasSuffix(*e.Name, "_URL") {
			t.Errorf("user-db, which depends on nothing, has $%s", *e.Name)
		}
	}
}
