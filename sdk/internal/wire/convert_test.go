package wire

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/alphaswarm/controller/core"
)

func exampleSpec() core.DeploymentSpec {
	return core.DeploymentSpec{
		Tenant: "acme", Environment: "prod", Name: "shop",
		Services: []core.ServiceSpec{{
			Name: "api", Image: "shop/api:2", Command: []string{"/api"}, Args: []string{"-v"},
			Env:       map[string]string{"A": "1"},
			SecretEnv: []core.SecretRef{{Env: "TOKEN", Ref: "shop/token"}},
			Ports:     []core.Port{{Name: "http", Container: 8080, Host: 80, Protocol: core.ProtocolTCP}},
			Replicas:  3, Resources: core.Resources{CPU: 0.25, MemoryBytes: 64 << 20},
			Health: &core.HealthCheck{Kind: core.HealthCheckHTTP, Path: "/healthz", Port: "http",
				Interval: core.Duration(time.Second), Timeout: core.Duration(500 * time.Millisecond), Retries: 2},
			DependsOn: []string{"db"},
			Volumes:   []core.VolumeMount{{Volume: "cache", Path: "/cache", ReadOnly: true}},
			Labels:    map[string]string{"team": "shop"},
		}, {Name: "db", Image: "postgres:16", Replicas: 1}},
	}
}

func TestSpecAndStatusSurviveTheWire(t *testing.T) {
	t.Parallel()
	spec := exampleSpec()
	if diff := cmp.Diff(spec, SpecFromPB(SpecToPB(&spec))); diff != "" {
		t.Errorf("spec changed on the wire (-want +got):\n%s", diff)
	}
	exit := 137
	st := core.DeploymentStatus{
		Deployment: spec.Ref(), Health: core.HealthDegraded, Reasons: []string{"api: 2 of 3 ready"},
		ObservedAt: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC),
		Services: []core.ServiceStatus{{Name: "api", Health: core.HealthDegraded, Desired: 3, Ready: 2,
			Replicas: []core.ReplicaStatus{
				{ID: "api-1", Health: core.HealthReady, StartedAt: time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)},
				{ID: "api-2", Health: core.HealthDown, Reasons: []string{"OOM killed"}, Restarts: 4, ExitCode: &exit},
			}}},
	}
	if diff := cmp.Diff(st, StatusFromPB(StatusToPB(&st))); diff != "" {
		t.Errorf("status changed on the wire (-want +got):\n%s", diff)
	}
	// A health value from a newer plugin reads as unknown, not as garbage.
	p := StatusToPB(&st)
	p.Services[0].Health = "hibernating"
	if got := StatusFromPB(p).Services[0].Health; got != core.HealthUnknown {
		t.Errorf("unknown health read as %q, want unknown", got)
	}
}

func TestEventsMetricsAndNodesSurviveTheWire(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 3, 4, 5, 6, 7, 8, time.UTC)
	e := core.Event{Time: at, Level: core.EventWarning, Service: "api", Replica: "api-1", Message: "pulling"}
	if diff := cmp.Diff(e, EventFromPB(EventToPB(e))); diff != "" {
		t.Errorf("event changed on the wire (-want +got):\n%s", diff)
	}
	points := []core.MetricPoint{{Service: "api", Replica: "api-1", Name: "cpu", Unit: "cores", Value: 0.5, Time: at}}
	if diff := cmp.Diff(points, MetricsFromPB(MetricsToPB(points))); diff != "" {
		t.Errorf("metrics changed on the wire (-want +got):\n%s", diff)
	}
	nodes := []core.NodeHealth{{Name: "n1", Health: core.HealthReady, Reachable: true, Version: "27",
		CPUs: 4, MemoryBytes: 8 << 30, DiskBytes: 100 << 30, Labels: map[string]string{"zone": "a"}}}
	if diff := cmp.Diff(nodes, NodesFromPB(NodesToPB(nodes))); diff != "" {
		t.Errorf("nodes changed on the wire (-want +got):\n%s", diff)
	}
	if !FromUnixNano(UnixNano(time.Time{})).IsZero() {
		t.Errorf("the zero time did not survive the wire")
	}
}
