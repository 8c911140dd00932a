package gcp_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/plugins/gcp/internal/fakegcp"
	"github.com/alphaswarm/controller/sdk"
)

// TestMetrics reads Cloud Monitoring's utilisation of the serving revision
// and scales it by the container's limits: one CPU and one memory point
// per instance slot.
func TestMetrics(t *testing.T) {
	b := configured(t, nil)
	spec := oneService("metrics", "registry.example/echo:1")
	spec.Services[0].Resources = core.Resources{CPU: 2, MemoryBytes: 1 << 30}
	resp, err := b.Apply(ctx(t), &sdk.ApplyRequest{Deployment: spec}, func(core.Event) {})
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	t.Cleanup(func() { b.Destroy(context.Background(), &sdk.DestroyRequest{Deployment: spec.Ref()}) })
	m, err := b.Metrics(ctx(t), &sdk.MetricsRequest{Deployment: spec.Ref(), State: resp.State, Service: "api"})
	if err != nil {
		t.Fatalf("metrics: %v", err)
	}
	got := map[string]float64{}
	for _, p := range m.Points {
		got[p.Replica+" "+p.Name] = p.Value
	}
	rev := servicesOf(spec.Ref())["api"].LatestReadyRevision
	want := map[string]float64{
		rev + "-0 cpu_cores": 2 * fakegcp.CPUUtilization, rev + "-0 memory_bytes": (1 << 30) * fakegcp.MemoryUtilization,
		rev + "-1 cpu_cores": 2 * fakegcp.CPUUtilization, rev + "-1 memory_bytes": (1 << 30) * fakegcp.MemoryUtilization,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("metrics (-want +got):\n%s", diff)
	}
}
