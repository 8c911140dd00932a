package aws_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/plugins/aws"
	"github.com/alphaswarm/controller/sdk"
)

// TestServiceConnect applies two deployments of the same service names
// (web calling api:8080, and a worker with no port) and checks through the
// emulator's state that each has a Cloud Map namespace of its own, tagged,
// in which api:8080 resolves to its own api and nothing else; then that
// destroy removes the namespace after the services.
func TestServiceConnect(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	c := configured(t, configWith("name_prefix", "sc"))
	newDeployment := func() core.DeploymentSpec {
		spec := newSpec("acme", "api", "web", "worker")
		spec.Services[0].Ports = []core.Port{{Name: "http", Container: 8080, Protocol: core.ProtocolTCP}, {Name: "admin", Container: 9090, Protocol: core.ProtocolTCP}}
		spec.Services[2].Ports = nil
		return spec
	}
	a, b := newDeployment(), newDeployment()
	states := map[string][]byte{}
	for _, spec := range []core.DeploymentSpec{a, b} {
		state, _, err := apply(ctx, c, spec, nil, nil)
		if err != nil {
			t.Fatalf("apply %s: %v", spec.Name, err)
		}
		states[spec.Name] = state
	}
	key := func(spec core.DeploymentSpec, svc string) string {
		return testCluster + "/" + aws.ServiceName("sc", spec.Ref(), svc)
	}
	snap := emu.Snapshot()
	for _, spec := range []core.DeploymentSpec{a, b} {
		ns, ok := snap.Namespaces[aws.NamespaceName("sc", spec.Ref())]
		if !ok {
			t.Fatalf("no Cloud Map namespace %s for %s", aws.NamespaceName("sc", spec.Ref()), spec.Name)
		}
		if !owned(ns.Tags, spec) {
			t.Errorf("namespace of %s tagged %v", spec.Name, ns.Tags)
		}
		if fmt.Sprint(ns.Services) != "[api api-admin web]" {
			t.Errorf("namespace of %s has the discovery names %v, want [api api-admin web] (the worker serves nothing)", spec.Name, ns.Services)
		}
		for _, from := range []string{"web", "worker", "api"} {
			for _, tc := range []struct {
				host string
				port int
				want string
			}{
				{"api", 8080, aws.ServiceName("sc", spec.Ref(), "api")},
				{"api", 9090, aws.ServiceName("sc", spec.Ref(), "api")},
				{"web", 8080, aws.ServiceName("sc", spec.Ref(), "web")},
				{"worker", 8080, ""},
				{"api", 8081, ""},
			} {
				if got := emu.Resolve(key(spec, from), tc.host, tc.port); got != tc.want {
					t.Errorf("%s of %s resolves %s:%d to %q, want %q", from, spec.Name, tc.host, tc.port, got, tc.want)
				}
			}
		}
	}
	if t.Failed() {
		return
	}

	// Re-applying keeps the namespace (other tests create theirs
	// meanwhile: compare its ID, not the calls).
	before := snap.Namespaces[aws.NamespaceName("sc", a.Ref())].ID
	if _, _, err := apply(ctx, c, a, states[a.Name], nil); err != nil {
		t.Fatalf("apply %s again: %v", a.Name, err)
	}
	if after := emu.Snapshot().Namespaces[aws.NamespaceName("sc", a.Ref())].ID; after != before {
		t.Errorf("re-apply replaced namespace %s with %q", before, after)
	}

	if _, err := c.Destroy(ctx, &sdk.DestroyRequest{Deployment: a.Ref(), State: states[a.Name], RemoveData: true}); err != nil {
		t.Fatalf("destroy %s: %v", a.Name, err)
	}
	snap = emu.Snapshot()
	if _, ok := snap.Namespaces[aws.NamespaceName("sc", a.Ref())]; ok {
		t.Errorf("namespace of %s left after destroy", a.Name)
	}
	if _, ok := snap.Namespaces[aws.NamespaceName("sc", b.Ref())]; !ok {
		t.Errorf("destroying %s removed the namespace of %s", a.Name, b.Name)
	}
	if got := emu.Resolve(key(b, "web"), "api", 8080); got != aws.ServiceName("sc", b.Ref(), "api") {
		t.Errorf("after destroying %s, web of %s resolves api:8080 to %q", a.Name, b.Name, got)
	}
	// Destroy again: what is gone is no error.
	if _, err := c.Destroy(ctx, &sdk.DestroyRequest{Deployment: a.Ref(), RemoveData: true}); err != nil {
		t.Fatalf("destroy %s again: %v", a.Name, err)
	}
	if _, err := c.Destroy(ctx, &sdk.DestroyRequest{Deployment: b.Ref(), State: states[b.Name], RemoveData: true}); err != nil {
		t.Fatalf("destroy %s: %v", b.Name, err)
	}
	if _, ok := emu.Snapshot().Namespaces[aws.NamespaceName("sc", b.Ref())]; ok {
		t.Errorf("namespace of %s left after destroy", b.Name)
	}
}
