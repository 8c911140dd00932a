package gcp

import (
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/alphaswarm/controller/core"
)

var cloudRunName = regexp.MustCompile(`^[a-z]([-a-z0-9]{0,47}[a-z0-9])?$`)

func TestServiceIDs(t *testing.T) {
	long := strings.Repeat("x", 63)
	tgt := func(tenant, env, dep string) target {
		return target{ref: core.DeploymentRef{Tenant: tenant, Environment: env, Name: dep}, prefix: "as"}
	}
	cases := []struct {
		name    string
		t       target
		service string
		want    string
	}{
		{"short", tgt("acme", "prod", "shop"), "api", "as-acme-prod-shop-api-" + hash("acme", "prod", "shop", "api")},
		{"cut to 49", tgt("acme", "prod", long), "api", ("as-acme-prod-" + long)[:40] + "-" + hash("acme", "prod", long, "api")},
		{"no dash before the hash", tgt("acme", "prod", "shop-"+long), "api", strings.TrimRight(("as-acme-prod-shop-" + long)[:40], "-") + "-" + hash("acme", "prod", "shop-"+long, "api")},
		{"tenant starting with a digit", tgt("1acme", "prod", "shop"), "web", "as-1acme-prod-shop-web-" + hash("1acme", "prod", "shop", "web")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.t.serviceID(tc.service)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("serviceID (-want +got):\n%s", diff)
			}
			if !cloudRunName.MatchString(got) {
				t.Errorf("serviceID %q is not a valid Cloud Run service name", got)
			}
		})
	}
}

// TestNamesDoNotCollide: deployments whose parts join alike, and long
// names that share their first 40 characters, get distinct names.
func TestNamesDoNotCollide(t *testing.T) {
	long := strings.Repeat("y", 60)
	refs := []core.DeploymentRef{
		{Tenant: "a", Environment: "b-c", Name: "d"}, {Tenant: "a-b", Environment: "c", Name: "d"},
		{Tenant: "acme", Environment: "prod", Name: long + "1"}, {Tenant: "acme", Environment: "prod", Name: long + "2"},
	}
	seen := map[string]core.DeploymentRef{}
	for _, r := range refs {
		tg := target{ref: r, prefix: "as", secret: "projects/p"}
		for _, name := range []string{tg.serviceID("api"), tg.secretID("db/password")} {
			if other, ok := seen[name]; ok {
				t.Errorf("%s and %s both name %s", r, other, name)
			}
			seen[name] = r
		}
	}
	tg := target{ref: refs[0], prefix: "as"}
	if a, b := tg.secretID("db/password"), tg.secretID("db_password"); a == b {
		t.Errorf("secret references db/password and db_password share the secret %s", a)
	}
}

func TestSizes(t *testing.T) {
	const mi = 1 << 20
	cases := []struct {
		name string
		in   core.Resources
		want size
	}{
		{"nothing asked", core.Resources{}, size{CPU: 1, MemoryMiB: 512, Notes: []string{"no CPU limit: Cloud Run's 1 CPU", "no memory limit: Cloud Run's 512 MiB"}}},
		{"exact", core.Resources{CPU: 2, MemoryBytes: 1024 * mi}, size{CPU: 2, MemoryMiB: 1024}},
		{"half a CPU", core.Resources{CPU: 0.5, MemoryBytes: 512 * mi}, size{CPU: 1, MemoryMiB: 512,
			Notes: []string{"0.5 CPU rounded up to 1 (an always-allocated instance has 1, 2, 4, 6 or 8)"}}},
		{"3 CPUs", core.Resources{CPU: 3, MemoryBytes: 2048 * mi}, size{CPU: 4, MemoryMiB: 2048,
			Notes: []string{"3 CPU rounded up to 4 (an always-allocated instance has 1, 2, 4, 6 or 8)"}}},
		{"little memory", core.Resources{CPU: 1, MemoryBytes: 128 * mi}, size{CPU: 1, MemoryMiB: 512,
			Notes: []string{"memory 128 MiB raised to Cloud Run's least, 512 MiB"}}},
		{"memory in bytes", core.Resources{CPU: 1, MemoryBytes: 1_000_000_000}, size{CPU: 1, MemoryMiB: 954,
			Notes: []string{"memory 1000000000 bytes rounded up to 954 MiB"}}},
		{"memory needs CPUs", core.Resources{CPU: 1, MemoryBytes: 10 << 30}, size{CPU: 4, MemoryMiB: 10 << 10,
			Notes: []string{"CPU raised from 1 to 4: Cloud Run needs 4 for more than 8 GiB of memory"}}},
		{"just 4 GiB needs no more", core.Resources{CPU: 1, MemoryBytes: 4 << 30}, size{CPU: 1, MemoryMiB: 4 << 10}},
		{"the most", core.Resources{CPU: 8, MemoryBytes: 32 << 30}, size{CPU: 8, MemoryMiB: 32 << 10}},
		{"too many CPUs", core.Resources{CPU: 16}, size{Err: "16 CPUs: Cloud Run gives an instance at most 8"}},
		{"too much memory", core.Resources{CPU: 8, MemoryBytes: 64 << 30}, size{Err: "64 GiB of memory: Cloud Run gives an instance at most 32 GiB"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, sizeOf(tc.in)); diff != "" {
				t.Errorf("sizeOf(%+v) (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

func TestProbes(t *testing.T) {
	svc := &core.ServiceSpec{
		Ports: []core.Port{{Name: "http", Container: 8080, Protocol: core.ProtocolTCP}},
		Health: &core.HealthCheck{Kind: core.HealthCheckHTTP, Path: "/healthz", Port: "http",
			Interval: core.Duration(1500_000_000), Timeout: core.Duration(2_000_000_000), StartPeriod: core.Duration(300_000_000_000), Retries: 5},
	}
	startup, liveness, notes := probes(svc)
	type probe struct {
		Path                                     string
		Port, Period, Timeout, Failures, Initial int32
	}
	got := []probe{
		{startup.GetHttpGet().GetPath(), startup.GetHttpGet().GetPort(), startup.PeriodSeconds, startup.TimeoutSeconds, startup.FailureThreshold, startup.InitialDelaySeconds},
		{liveness.GetHttpGet().GetPath(), liveness.GetHttpGet().GetPort(), liveness.PeriodSeconds, liveness.TimeoutSeconds, liveness.FailureThreshold, liveness.InitialDelaySeconds},
	}
	want := []probe{{"/healthz", 8080, 2, 2, 5, 240}, {"/healthz", 8080, 2, 2, 5, 0}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("probes (-want +got):\n%s", diff)
	}
	wantNotes := []string{
		"health interval 1.5s became 2s (Cloud Run takes whole seconds, 1 to 240)",
		"health interval 1.5s became 2s (Cloud Run takes whole seconds, 1 to 3600)",
		"health start_period 5m0s became 240s (Cloud Run takes whole seconds, 0 to 240)",
	}
	if diff := cmp.Diff(wantNotes, notes); diff != "" {
		t.Errorf("notes (-want +got):\n%s", diff)
	}
	svc.Health = &core.HealthCheck{Kind: core.HealthCheckCommand, Command: []string{"true"}}
	if s, l, n := probes(svc); s != nil || l != nil || len(n) != 1 {
		t.Errorf("a command health check: startup %v, liveness %v, notes %q; want none and one note", s, l, n)
	}
}
