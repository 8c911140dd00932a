package kubernetes_test

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/alphaswarm/controller/core"
	k8splugin "github.com/alphaswarm/controller/plugins/kubernetes"
	"github.com/alphaswarm/controller/sdk"
)

// TestVolumesBecomeClaims gives a service a named volume: apply makes a
// labelled claim, which binds to a volume an admin provided (the test
// cluster has no provisioner), and the pod mounts it. Destroy keeps the
// claim and its namespace unless asked to remove data.
func TestVolumesBecomeClaims(t *testing.T) {
	t.Parallel()
	a := admin(t)
	ctx := context.Background()
	spec := deployment("volumes", "data", 1)
	ns := k8splugin.NamespaceOf(spec.Ref())
	mustCreate(t, func() error {
		_, err := a.CoreV1().PersistentVolumes().Create(ctx, &corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: "volumes-test-cache"},
			Spec: corev1.PersistentVolumeSpec{Capacity: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")},
				AccessModes:            []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
				PersistentVolumeSource: corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: t.TempDir()}},
				ClaimRef:               &corev1.ObjectReference{Namespace: ns, Name: "data-cache"}}}, metav1.CreateOptions{})
		return err
	})
	c, err := plugin(t, map[string]any{"kubeconfig": needCluster(t).Kubeconfig})
	if err != nil {
		t.Fatal(err)
	}
	spec.Services[0].Volumes = []core.VolumeMount{{Volume: "cache", Path: "/var/cache"}}
	state, err := apply(t, c, spec, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	claim, err := a.CoreV1().PersistentVolumeClaims(ns).Get(ctx, "data-cache", metav1.GetOptions{})
	if err != nil || claim.Labels["alphaswarm.io/deployment"] != "data" || claim.Status.Phase != corev1.ClaimBound {
		t.Fatalf("claim: %+v %v", claim, err)
	}
	d, err := a.AppsV1().Deployments(ns).Get(ctx, "api", metav1.GetOptions{})
	if err != nil || len(d.Spec.Template.Spec.Containers[0].VolumeMounts) != 1 || d.Spec.Template.Spec.Containers[0].VolumeMounts[0].MountPath != "/var/cache" {
		t.Fatalf("deployment mounts: %v", err)
	}
	dctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	if _, err := c.Destroy(dctx, &sdk.DestroyRequest{Deployment: spec.Ref(), State: state}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.CoreV1().PersistentVolumeClaims(ns).Get(ctx, "data-cache", metav1.GetOptions{}); err != nil {
		t.Errorf("destroy without remove_data lost the claim: %v", err)
	}
	if _, err := c.Destroy(dctx, &sdk.DestroyRequest{Deployment: spec.Ref(), State: state, RemoveData: true}); err != nil {
		t.Fatal(err)
	}
	if left := leftovers(t, a, "alphaswarm.io/deployment=data"); len(left) > 0 {
		t.Errorf("destroy with remove_data left %v", left)
	}
	if l, _ := a.CoreV1().PersistentVolumeClaims("").List(ctx, metav1.ListOptions{LabelSelector: "alphaswarm.io/deployment=data"}); l != nil && len(l.Items) > 0 {
		t.Errorf("destroy with remove_data left %d claims", len(l.Items))
	}
}
