package core

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

func exampleSpec() DeploymentSpec {
	return DeploymentSpec{
		Tenant: "acme", Environment: "staging", Name: "trading",
		Services: []ServiceSpec{
			{
				Name: "api", Image: "alphaswarm/api:1.4.2",
				Command:   []string{"/api"},
				Args:      []string{"--listen", ":8080"},
				Env:       map[string]string{"LOG_LEVEL": "info", "DB_HOST": "db"},
				SecretEnv: []SecretRef{{Env: "DB_PASSWORD", Ref: "trading/db-password"}},
				Ports:     []Port{{Name: "http", Container: 8080, Host: 18080, Protocol: ProtocolTCP}},
				Replicas:  2,
				Resources: Resources{CPU: 0.5, MemoryBytes: 256 << 20},
				Health: &HealthCheck{
					Kind: HealthCheckHTTP, Path: "/healthz", Port: "http",
					Interval: Duration(5 * time.Second), Timeout: Duration(time.Second), Retries: 3,
				},
				DependsOn: []string{"db"},
				Labels:    map[string]string{"team": "payments"},
			},
			{
				Name: "db", Image: "postgres:16", Replicas: 1,
				Volumes: []VolumeMount{{Volume: "pgdata", Path: "/var/lib/postgresql/data"}},
				Health:  &HealthCheck{Kind: HealthCheckCommand, Command: []string{"pg_isready"}},
			},
		},
	}
}

func exampleStatus() DeploymentStatus {
	t0 := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	exit := 137
	return DeploymentStatus{
		Deployment: DeploymentRef{Tenant: "acme", Environment: "staging", Name: "trading"},
		Health:     HealthDegraded,
		Reasons:    []string{"service api: 1 of 2 replicas ready"},
		ObservedAt: t0,
		Services: []ServiceStatus{{
			Name: "api", Health: HealthDegraded, Desired: 2, Ready: 1,
			Reasons: []string{"api-2: OOM killed"},
			Replicas: []ReplicaStatus{
				{ID: "api-1", Health: HealthReady, StartedAt: t0.Add(-time.Hour)},
				{ID: "api-2", Health: HealthDown, Reasons: []string{"OOM killed"}, Restarts: 3, ExitCode: &exit},
			},
		}},
	}
}

type observations struct {
	Metrics []MetricPoint `json:"metrics"`
	Nodes   []NodeHealth  `json:"nodes"`
	Events  []Event       `json:"events"`
}

func exampleObservations() observations {
	t0 := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	return observations{
		Metrics: []MetricPoint{{Service: "api", Replica: "api-1", Name: MetricCPUCores, Unit: "cores", Value: 0.25, Time: t0}},
		Nodes: []NodeHealth{{
			Name: "engine", Health: HealthReady, Reachable: true, Version: "28.2.2",
			CPUs: 2, MemoryBytes: 24 << 30, Labels: map[string]string{"os": "linux"},
		}},
		Events: []Event{{Time: t0, Level: EventInfo, Service: "api", Replica: "api-1", Message: "container started"}},
	}
}

// TestJSONGolden pins the JSON encoding of the core types: a change to a
// field name or to omission rules shows up as a golden diff.
func TestJSONGolden(t *testing.T) {
	t.Parallel()
	cases := []struct {
		file  string
		value any
		fresh func() any
	}{
		{"deployment.json", exampleSpec(), func() any { return &DeploymentSpec{} }},
		{"status.json", exampleStatus(), func() any { return &DeploymentStatus{} }},
		{"observations.json", exampleObservations(), func() any { return &observations{} }},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			got, err := json.MarshalIndent(tc.value, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			path := filepath.Join("testdata", tc.file)
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("read golden (run go test -update): %v", err)
			}
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("encoding changed (-golden +got):\n%s", diff)
			}
			back := tc.fresh()
			dec := json.NewDecoder(bytes.NewReader(want))
			dec.DisallowUnknownFields()
			if err := dec.Decode(back); err != nil {
				t.Fatalf("decode golden: %v", err)
			}
			if diff := cmp.Diff(tc.value, derefAny(back)); diff != "" {
				t.Errorf("round trip lost data (-want +got):\n%s", diff)
			}
		})
	}
}

func derefAny(v any) any {
	switch p := v.(type) {
	case *DeploymentSpec:
		return *p
	case *DeploymentStatus:
		return *p
	case *observations:
		return *p
	}
	return v
}

func TestValidate(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		mutate func(*DeploymentSpec)
		want   []string // paths of the expected errors
	}{
		{"valid", func(*DeploymentSpec) {}, nil},
		{"bad tenant", func(d *DeploymentSpec) { d.Tenant = "Acme Corp" }, []string{"tenant"}},
		{"empty name", func(d *DeploymentSpec) { d.Name = "" }, []string{"name"}},
		{"duplicate service", func(d *DeploymentSpec) { d.Services[1].Name = "api"; d.Services[0].DependsOn = nil },
			[]string{"service.api"}},
		{"unknown dependency", func(d *DeploymentSpec) { d.Services[0].DependsOn = []string{"cache"} },
			[]string{"service.api.depends_on"}},
		{"cycle", func(d *DeploymentSpec) { d.Services[1].DependsOn = []string{"api"} },
			[]string{"service.api.depends_on"}},
		{"replicas range", func(d *DeploymentSpec) { d.Services[0].Replicas = MaxReplicas + 1 },
			[]string{"service.api.replicas"}},
		{"port range", func(d *DeploymentSpec) { d.Services[0].Ports[0].Container = 70000 },
			[]string{"service.api.port.http.container"}},
		{"health port", func(d *DeploymentSpec) { d.Services[0].Health.Port = "admin" },
			[]string{"service.api.health.port"}},
		{"empty image", func(d *DeploymentSpec) { d.Services[1].Image = " " }, []string{"service.db.image"}},
		{"env name", func(d *DeploymentSpec) { d.Services[0].Env["1BAD"] = "x" }, []string{"service.api.env"}},
		{"relative volume", func(d *DeploymentSpec) { d.Services[1].Volumes[0].Path = "data" },
			[]string{"service.db.volume[0].path"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := exampleSpec()
			tc.mutate(&d)
			err := d.Validate()
			var got []string
			if err != nil {
				for _, fe := range err.(ValidationError) {
					got = append(got, fe.Path)
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("error paths (-want +got):\n%s\nerror: %v", diff, err)
			}
		})
	}
}

func TestValidateCycleMessageNamesServices(t *testing.T) {
	t.Parallel()
	d := exampleSpec()
	d.Services[1].DependsOn = []string{"api"}
	err := d.Validate()
	if err == nil || !strings.Contains(err.Error(), "api -> db -> api") {
		t.Fatalf("want the cycle spelled out, got %v", err)
	}
}

func TestStartOrder(t *testing.T) {
	t.Parallel()
	d := DeploymentSpec{Services: []ServiceSpec{
		{Name: "web", DependsOn: []string{"api"}},
		{Name: "api", DependsOn: []string{"db", "cache"}},
		{Name: "cache"},
		{Name: "db"},
	}}
	want := []string{"db", "cache", "api", "web"}
	if diff := cmp.Diff(want, d.StartOrder()); diff != "" {
		t.Errorf("start order (-want +got):\n%s", diff)
	}
}

func TestStartLevels(t *testing.T) {
	t.Parallel()
	d := DeploymentSpec{Services: []ServiceSpec{
		{Name: "web", DependsOn: []string{"api"}},
		{Name: "api", DependsOn: []string{"db", "cache"}},
		{Name: "worker", DependsOn: []string{"db"}},
		{Name: "cache"},
		{Name: "db"},
	}}
	want := [][]string{{"db", "cache"}, {"api", "worker"}, {"web"}}
	if diff := cmp.Diff(want, d.StartLevels()); diff != "" {
		t.Errorf("start levels (-want +got):\n%s", diff)
	}
}

func TestAggregate(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   []Health
		want Health
	}{
		{nil, HealthMissing},
		{[]Health{HealthReady, HealthReady}, HealthReady},
		{[]Health{HealthReady, HealthProgressing}, HealthProgressing},
		{[]Health{HealthReady, HealthDown}, HealthDegraded},
		{[]Health{HealthDown, HealthMissing}, HealthMissing},
		{[]Health{HealthReady, "bogus"}, HealthUnknown},
	}
	for _, tc := range cases {
		if got := Aggregate(tc.in...); got != tc.want {
			t.Errorf("Aggregate(%v) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestDurationRejectsNumbers(t *testing.T) {
	t.Parallel()
	var h HealthCheck
	err := json.Unmarshal([]byte(`{"kind":"tcp","interval":5}`), &h)
	if err == nil || !strings.Contains(err.Error(), `"5s"`) {
		t.Fatalf("want an error suggesting a duration string, got %v", err)
	}
}
