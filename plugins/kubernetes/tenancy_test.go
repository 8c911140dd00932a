package kubernetes_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/alphaswarm/controller/core"
	k8splugin "github.com/alphaswarm/controller/plugins/kubernetes"
	"github.com/alphaswarm/controller/sdk"
)

// TestTenantsInOneNamespaceStayApart registers one backend whose namespace
// every deployment shares, and applies a deployment of the same name for
// two tenants: each gets objects of its own, scaling one leaves the other
// alone, and destroying one leaves the other running.
func TestTenantsInOneNamespaceStayApart(t *testing.T) {
	t.Parallel()
	a := admin(t)
	ctx := context.Background()
	ns := fmt.Sprintf("shared-%x", rand.Uint32())
	mustCreate(t, func() error {
		_, err := a.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
		return err
	})
	c, err := plugin(t, map[string]any{"kubeconfig": needCluster(t).Kubeconfig, "namespace": ns})
	if err != nil {
		t.Fatal(err)
	}
	first, second := deployment("acme", "shop", 1), deployment("globex", "shop", 2)
	states := map[string][]byte{}
	for _, spec := range []struct {
		tenant   string
		replicas int
	}{{"acme", 1}, {"globex", 2}} {
		d := deployment(spec.tenant, "shop", spec.replicas)
		if states[spec.tenant], err = apply(t, c, d, nil, nil); err != nil {
			t.Fatalf("apply for %s: %v", spec.tenant, err)
		}
	}
	t.Cleanup(func() {
		c.Destroy(context.Background(), &sdk.DestroyRequest{Deployment: first.Ref(), State: states["acme"]})
		c.Destroy(context.Background(), &sdk.DestroyRequest{Deployment: second.Ref(), State: states["globex"]})
	})
	replicasOf := func(tenant string) int32 {
		t.Helper()
		list, err := a.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{LabelSelector: "alphaswarm.io/tenant=" + tenant})
		if err != nil || len(list.Items) != 1 {
			t.Fatalf("%s's Deployments in %s: %d, %v", tenant, ns, len(list.Items), err)
		}
		if !strings.HasPrefix(list.Items[0].Name, "shop-api-") {
			t.Errorf("%s's Deployment is called %s", tenant, list.Items[0].Name)
		}
		return *list.Items[0].Spec.Replicas
	}
	if replicasOf("acme") != 1 || replicasOf("globex") != 2 {
		t.Fatalf("after both applies: acme %d, globex %d replicas", replicasOf("acme"), replicasOf("globex"))
	}
	if _, err := c.Scale(ctx, &sdk.ScaleRequest{Deployment: first.Ref(), State: states["acme"], Service: "api", Replicas: 3}); err != nil {
		t.Fatal(err)
	}
	if replicasOf("acme") != 3 || replicasOf("globex") != 2 {
		t.Errorf("after scaling acme's to 3: acme %d, globex %d replicas", replicasOf("acme"), replicasOf("globex"))
	}
	if _, err := c.Destroy(ctx, &sdk.DestroyRequest{Deployment: first.Ref(), State: states["acme"]}); err != nil {
		t.Fatal(err)
	}
	if replicasOf("globex") != 2 {
		t.Error("destroying acme's deployment changed globex's")
	}
}

// TestTenantsGetNamespacesOfTheirOwn applies a deployment of the same name
// for two tenants on a backend without a shared namespace: each lands in a
// namespace of its own, and destroying one leaves the other's.
func TestTenantsGetNamespacesOfTheirOwn(t *testing.T) {
	t.Parallel()
	a := admin(t)
	ctx := context.Background()
	c, err := plugin(t, map[string]any{"kubeconfig": needCluster(t).Kubeconfig})
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("own-%x", rand.Uint32())
	first, second := deployment("acme", name, 1), deployment("globex", name, 1)
	stFirst, err := apply(t, c, first, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	stSecond, err := apply(t, c, second, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Destroy(context.Background(), &sdk.DestroyRequest{Deployment: second.Ref(), State: stSecond})
	})
	for _, ns := range []string{k8splugin.NamespaceOf(first.Ref()), k8splugin.NamespaceOf(second.Ref())} {
		if list, err := a.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{}); err != nil || len(list.Items) != 1 {
			t.Fatalf("namespace %s: %v", ns, err)
		}
	}
	if _, err := c.Destroy(ctx, &sdk.DestroyRequest{Deployment: first.Ref(), State: stFirst}); err != nil {
		t.Fatal(err)
	}
	if list, err := a.AppsV1().Deployments(k8splugin.NamespaceOf(second.Ref())).List(ctx, metav1.ListOptions{}); err != nil || len(list.Items) != 1 {
		t.Errorf("destroying acme's deployment touched globex's namespace: %v", err)
	}
}

// TestNamespacesOfDeploymentsThatJoinAlikeDiffer names the namespaces of
// two deployments whose tenant, environment and name join alike with '-':
// they differ, so neither tenant can take the other's.
func TestNamespacesOfDeploymentsThatJoinAlikeDiffer(t *testing.T) {
	t.Parallel()
	a := k8splugin.NamespaceOf(core.DeploymentRef{Tenant: "a", Environment: "b-c", Name: "x"})
	b := k8splugin.NamespaceOf(core.DeploymentRef{Tenant: "a-b", Environment: "c", Name: "x"})
	if a == b || !strings.HasPrefix(a, "a-b-c-x-") || len(a) > 63 {
		t.Errorf("namespaces %q and %q", a, b)
	}
	long := k8splugin.NamespaceOf(core.DeploymentRef{Tenant: strings.Repeat("t", 63), Environment: strings.Repeat("e", 63), Name: strings.Repeat("n", 63)})
	if len(long) > 63 {
		t.Errorf("a long namespace has %d characters: %s", len(long), long)
	}
}

// TestNamespaceTemplatePlacesEachTenant registers the backend with the
// namespace template tpl-{tenant}: each tenant's deployment lands in its
// tenant's namespace, which the operator made.
func TestNamespaceTemplatePlacesEachTenant(t *testing.T) {
	t.Parallel()
	a := admin(t)
	ctx := context.Background()
	prefix := fmt.Sprintf("tpl%x", rand.Uint32())
	for _, tenant := range []string{"acme", "globex"} {
		mustCreate(t, func() error {
			_, err := a.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: prefix + "-" + tenant}}, metav1.CreateOptions{})
			return err
		})
	}
	c, err := plugin(t, map[string]any{"kubeconfig": needCluster(t).Kubeconfig, "namespace": prefix + "-{tenant}"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tenant := range []string{"acme", "globex"} {
		spec := deployment(tenant, "shop", 1)
		st, err := apply(t, c, spec, nil, nil)
		if err != nil {
			t.Fatalf("apply for %s: %v", tenant, err)
		}
		t.Cleanup(func() { c.Destroy(context.Background(), &sdk.DestroyRequest{Deployment: spec.Ref(), State: st}) })
		list, err := a.AppsV1().Deployments(prefix+"-"+tenant).List(ctx, metav1.ListOptions{LabelSelector: "alphaswarm.io/tenant=" + tenant})
		if err != nil || len(list.Items) != 1 {
			t.Errorf("%s's namespace holds %v, %v", tenant, list, err)
		}
	}
	v, err := c.Validate(ctx, &sdk.ValidateRequest{Deployment: deployment(strings.Repeat("t", 63), "shop", 1)})
	if err != nil || len(v.Diagnostics) == 0 || !strings.Contains(v.Diagnostics[0].Summary, "not a valid namespace name") {
		t.Errorf("a template that makes a name too long: %+v, %v", v, err)
	}
}
