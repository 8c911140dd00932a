package kubernetes_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/sdk"
	"github.com/alphaswarm/controller/sdk/backendtest"
	"github.com/alphaswarm/controller/sdk/pluginhost"
)

// BenchmarkKubernetesApply measures applying a 10-service deployment
// through the plugin (a launched binary, over mutual TLS) until every
// Deployment is available, against creating the same namespace,
// Deployments and Services directly with client-go and waiting the same
// way. The two take turns in each iteration; each reports its median as
// <variant>_p50_ns. Teardown is not timed.
func BenchmarkKubernetesApply(b *testing.B) {
	c := needCluster(b)
	ctx := context.Background()
	plugin, err := pluginhost.Launch(ctx, pluginhost.LaunchConfig{Path: backendtest.Binary(b, pluginPackage)})
	if err != nil {
		b.Fatal(err)
	}
	defer plugin.Close()
	cfg, _ := json.Marshal(map[string]any{"kubeconfig": c.Kubeconfig})
	if _, err := plugin.Configure(ctx, &sdk.ConfigureRequest{Config: cfg}); err != nil {
		b.Fatal(err)
	}
	a := admin(b)
	var viaPlugin, direct []time.Duration
	for i := 0; b.Loop(); i++ {
		spec := tenServices(fmt.Sprintf("b%d-%d", time.Now().Unix()%100000, i))
		t0 := time.Now()
		if _, err := plugin.Apply(ctx, &sdk.ApplyRequest{Deployment: spec}, nil); err != nil {
			b.Fatal(err)
		}
		viaPlugin = append(viaPlugin, time.Since(t0))
		if _, err := plugin.Destroy(ctx, &sdk.DestroyRequest{Deployment: spec.Ref(), RemoveData: true}); err != nil {
			b.Fatal(err)
		}
		ns := fmt.Sprintf("direct-%d-%d", time.Now().Unix()%100000, i)
		t0 = time.Now()
		createDirectly(b, a, ns, spec.Services)
		direct = append(direct, time.Since(t0))
		a.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{})
	}
	report(b, "kubernetes_apply", viaPlugin)
	report(b, "client_go_direct", direct)
}

func tenServices(name string) core.DeploymentSpec {
	spec := core.DeploymentSpec{Tenant: "bench", Environment: "k8s", Name: name}
	for i := range 10 {
		svc := testService("")
		svc.Name, svc.Replicas = fmt.Sprintf("svc%d", i), 2
		spec.Services = append(spec.Services, svc)
	}
	return spec
}

// createDirectly makes what the plugin makes, with client-go alone, and
// waits until every Deployment is rolled out.
func createDirectly(b *testing.B, a kubernetes.Interface, ns string, services []core.ServiceSpec) {
	ctx := context.Background()
	if _, err := a.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		b.Fatal(err)
	}
	for _, s := range services {
		labels := map[string]string{"app.kubernetes.io/name": s.Name}
		replicas := int32(s.Replicas)
		d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: s.Name, Labels: labels}, Spec: appsv1.DeploymentSpec{
			Replicas: &replicas, Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{Containers: []corev1.Container{{
				Name: s.Name, Image: s.Image, Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}}}}}}}}
		if _, err := a.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
			b.Fatal(err)
		}
		svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: s.Name, Labels: labels}, Spec: corev1.ServiceSpec{Selector: labels,
			Ports: []corev1.ServicePort{{Name: "http", Port: 8080, TargetPort: intstr.FromInt32(8080)}}}}
		if _, err := a.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	for _, s := range services {
		for {
			d, err := a.AppsV1().Deployments(ns).Get(ctx, s.Name, metav1.GetOptions{})
			if err != nil {
				b.Fatal(err)
			}
			if d.Status.ObservedGeneration >= d.Generation && d.Status.UpdatedReplicas == *d.Spec.Replicas &&
				d.Status.Replicas == d.Status.UpdatedReplicas && d.Status.AvailableReplicas == d.Status.UpdatedReplicas {
				break
			}
			time.Sleep(300 * time.Millisecond)
		}
	}
}

func report(b *testing.B, name string, ds []time.Duration) {
	s := slices.Clone(ds)
	slices.Sort(s)
	b.ReportMetric(float64(s[len(s)/2].Nanoseconds()), name+"_p50_ns")
}
