package backendtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/sdk"
	"github.com/alphaswarm/controller/sdk/pluginhost"
)

// Run checks the backend described by h. Checks of capabilities the backend
// does not declare are replaced by a check that they answer Unsupported.
// The checks run h.Parallel at a time, each on deployments of its own.
func Run(t *testing.T, h Harness) {
	t.Helper()
	h.defaults()
	s := &suite{h: h}
	s.client = s.connect(t)
	s.info = s.client.Info()
	checks := []check{
		{"Info", s.testInfo},
		{"InvalidConfig", s.testInvalidConfig},
		{"Validate", s.testValidate},
		{"ValidatesOffline", s.testValidatesOffline},
		{"ApplyIsIdempotent", s.testApplyIdempotent},
		{"UpdateReplacesOnlyChangedService", s.testUpdate},
		{"ApplyHonoursCancellation", s.testApplyCancel},
		{"DestroyTwice", s.testDestroyTwice},
		{"StateIsEnough", s.testStateIsEnough},
		{"CrashMidApply", s.testCrashMidApply},
		{"SecretsStaySecret", s.testSecretsStaySecret},
		{"ConcurrentDeployments", s.testConcurrentDeployments},
		s.capability(sdk.CapRestart, s.testRestart),
		s.capability(sdk.CapScale, s.testScale),
		s.capability(sdk.CapStartStop, s.testStopStart),
		s.capability(sdk.CapLogs, s.testLogs),
		s.capability(sdk.CapExec, s.testExec),
		s.capability(sdk.CapMetrics, s.testMetrics),
		s.capability(sdk.CapNodeHealth, s.testNodeHealth),
	}
	runAll(t, h.Parallel, checks)
}

// check is one named check of the suite.
type check struct {
	name string
	run  func(*testing.T)
}

// runAll runs the checks as subtests of t, at most limit at a time. The
// subtests run concurrently without t.Parallel, so go test's -parallel
// (GOMAXPROCS by default) does not hold back checks that mostly wait.
func runAll(t *testing.T, limit int, checks []check) {
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	for _, c := range checks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			t.Run(c.name, c.run)
		}()
	}
	wg.Wait()
}

// connect returns a fresh backend (a new plugin process when launched),
// configured with h.Config.
func (s *suite) connect(t *testing.T) *pluginhost.Client {
	t.Helper()
	c := s.h.Connect(t)
	ctx, cancel := context.WithTimeout(context.Background(), s.h.Timeout)
	defer cancel()
	if _, err := c.Configure(ctx, &sdk.ConfigureRequest{Instance: "conformance", Config: s.h.Config}); err != nil {
		t.Fatalf("configure with Harness.Config: %v", err)
	}
	return c
}

// capability returns check when the backend declares c, and otherwise a
// check that every operation of c answers Unsupported.
func (s *suite) capability(c sdk.Capability, run func(*testing.T)) check {
	if s.declares(c) {
		return check{string(c), run}
	}
	return check{string(c) + "Unsupported", func(t *testing.T) { s.testUnsupported(t, c) }}
}

// declares says whether the backend declares c and the environment serves it.
func (s *suite) declares(c sdk.Capability) bool {
	return s.info.Capabilities.Has(c) && !slices.Contains(s.h.Unavailable, c)
}

func (s *suite) testInfo(t *testing.T) {
	c := s.h.Connect(t)
	info := c.Info()
	if info.Name == "" || info.Version == "" {
		t.Errorf("Info: name %q and version %q must both be set", info.Name, info.Version)
	}
	if info.Protocol != sdk.ProtocolVersion {
		t.Errorf("Info: protocol %d, want %d", info.Protocol, sdk.ProtocolVersion)
	}
	for _, capability := range info.Capabilities {
		if !slices.Contains(sdk.AllCapabilities, capability) {
			t.Errorf("Info: unknown capability %q", capability)
		}
	}
	if err := info.ConfigSchema.Check(); err != nil {
		t.Errorf("Info: %v", err)
	}
}

func (s *suite) testInvalidConfig(t *testing.T) {
	cases := []struct {
		name   string
		config json.RawMessage
		path   string
	}{
		{"harness", s.h.BadConfig, s.h.BadConfigPath},
		{"unknown attribute", json.RawMessage(`{"no_such_attribute_in_any_schema": true}`), "no_such_attribute_in_any_schema"},
		{"not an object", json.RawMessage(`[1, 2]`), ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := s.h.Connect(t)
			_, err := c.Configure(context.Background(), &sdk.ConfigureRequest{Instance: "bad", Config: tc.config})
			var invalid *sdk.InvalidConfigError
			if !errors.As(err, &invalid) {
				t.Fatalf("configure %s: got %v, want an InvalidConfigError", tc.config, err)
			}
			if invalid.Path != tc.path {
				t.Errorf("configure %s: error names %q, want %q (%v)", tc.config, invalid.Path, tc.path, err)
			}
		})
	}
}

func (s *suite) testValidate(t *testing.T) {
	d := s.newDeployment(t, map[string]int{"web": 1})
	resp, err := s.client.Validate(d.ctx(t), &sdk.ValidateRequest{Deployment: d.spec})
	if err != nil {
		t.Fatalf("validate: %v", err)
	}
	for _, diag := range resp.Diagnostics {
		if diag.Severity == sdk.SeverityError {
			t.Errorf("validate: a valid deployment got error %+v", diag)
		}
	}
	d.spec.Services[0].Replicas = -1
	resp, err = s.client.Validate(d.ctx(t), &sdk.ValidateRequest{Deployment: d.spec})
	if err != nil {
		t.Fatalf("validate: %v", err)
	}
	if !slices.ContainsFunc(resp.Diagnostics, func(d sdk.Diagnostic) bool {
		return d.Severity == sdk.SeverityError && d.Path == "service.web.replicas"
	}) {
		t.Errorf("validate: replicas -1 gave %+v, want an error at service.web.replicas", resp.Diagnostics)
	}
}

func (s *suite) testApplyIdempotent(t *testing.T) {
	d := s.newDeployment(t, map[string]int{"api": 2, "worker": 1})
	for _, c := range d.plan(t).Services {
		if c.Action != sdk.ActionCreate {
			t.Errorf("plan of a new deployment: service %s is %s, want create", c.Service, c.Action)
		}
	}
	if events := d.apply(t); len(events) == 0 {
		t.Errorf("apply reported no progress events")
	}
	first := d.waitFor(t, "ready after apply", d.allReady)
	for _, c := range d.plan(t).Services {
		if c.Action != sdk.ActionNoop {
			t.Errorf("plan after apply: service %s is %s %+v, want no-op", c.Service, c.Action, c.Fields)
		}
	}
	d.apply(t)
	second := d.waitFor(t, "ready after second apply", d.allReady)
	for _, svc := range []string{"api", "worker"} {
		if diff := cmp.Diff(replicaIDs(first, svc), replicaIDs(second, svc)); diff != "" {
			t.Errorf("second apply of the same spec replaced %s replicas (-first +second):\n%s", svc, diff)
		}
	}
}

func (s *suite) testUpdate(t *testing.T) {
	d := s.newDeployment(t, map[string]int{"api": 1, "worker": 1})
	d.apply(t)
	before := d.waitFor(t, "ready after apply", d.allReady)
	api := d.spec.Service("api")
	api.Env = maps.Clone(api.Env)
	if api.Env == nil {
		api.Env = map[string]string{}
	}
	api.Env["CONFORMANCE_REVISION"] = "2"
	plan := d.plan(t)
	want := map[string]sdk.Action{"api": sdk.ActionUpdate, "worker": sdk.ActionNoop}
	for _, c := range plan.Services {
		if c.Action != want[c.Service] {
			t.Errorf("plan: %s is %s, want %s", c.Service, c.Action, want[c.Service])
		}
		if c.Service == "api" && !slices.ContainsFunc(c.Fields, func(f sdk.FieldChange) bool {
			return strings.Contains(f.Path, "CONFORMANCE_REVISION")
		}) {
			t.Errorf("plan: api update %+v does not name the changed env variable", c.Fields)
		}
	}
	d.apply(t)
	after := d.waitFor(t, "ready after update", d.allReady)
	if diff := cmp.Diff(replicaIDs(before, "worker"), replicaIDs(after, "worker")); diff != "" {
		t.Errorf("updating api touched worker (-before +after):\n%s", diff)
	}
}

func (s *suite) testDestroyTwice(t *testing.T) {
	d := s.newDeployment(t, map[string]int{"api": 1})
	d.apply(t)
	d.waitFor(t, "ready after apply", d.allReady)
	for i := range 2 {
		if _, err := s.client.Destroy(d.ctx(t), &sdk.DestroyRequest{Deployment: d.spec.Ref(), State: d.state, RemoveData: true}); err != nil {
			t.Fatalf("destroy #%d: %v", i+1, err)
		}
	}
	d.state = nil // the host forgets the state once destroy succeeds
	d.waitFor(t, "gone after destroy", gone)
}

func (s *suite) testRestart(t *testing.T) {
	d := s.newDeployment(t, map[string]int{"api": 2})
	d.apply(t)
	st := d.waitFor(t, "ready after apply", d.allReady)
	before := st.Service("api").Replicas
	resp, err := s.client.Restart(d.ctx(t), &sdk.RestartRequest{Deployment: d.spec.Ref(), State: d.state, Service: "api"})
	if err != nil {
		t.Fatalf("restart: %v", err)
	}
	d.keep(resp.State)
	st = d.waitFor(t, "ready after restart", d.allReady)
	after := st.Service("api").Replicas
	for i, old := range before {
		r := after[min(i, len(after)-1)]
		restarted := r.ID != old.ID || r.Restarts > old.Restarts || r.StartedAt.After(old.StartedAt)
		if !restarted {
			t.Errorf("restart: replica %s shows no restart (before %+v, after %+v)", old.ID, old, r)
		}
	}
	_, err = s.client.Restart(d.ctx(t), &sdk.RestartRequest{Deployment: d.spec.Ref(), State: d.state, Service: "no-such-service"})
	var notFound *sdk.NotFoundError
	if !errors.As(err, &notFound) {
		t.Errorf("restart of an unknown service: got %v, want NotFoundError", err)
	}
}

func (d *deployment) keep(state []byte) {
	if state != nil {
		d.state = state
	}
}

func (s *suite) testScale(t *testing.T) {
	d := s.newDeployment(t, map[string]int{"api": 1})
	d.apply(t)
	d.waitFor(t, "ready after apply", d.allReady)
	for _, n := range []int{3, 1} {
		resp, err := s.client.Scale(d.ctx(t), &sdk.ScaleRequest{Deployment: d.spec.Ref(), State: d.state, Service: "api", Replicas: n})
		if err != nil {
			t.Fatalf("scale to %d: %v", n, err)
		}
		d.keep(resp.State)
		d.waitFor(t, "scaled", serviceReady("api", n))
	}
}

func (s *suite) testStopStart(t *testing.T) {
	d := s.newDeployment(t, map[string]int{"api": 2})
	d.apply(t)
	d.waitFor(t, "ready after apply", d.allReady)
	stop, err := s.client.Stop(d.ctx(t), &sdk.StopRequest{Deployment: d.spec.Ref(), State: d.state, Service: "api"})
	if err != nil {
		t.Fatalf("stop: %v", err)
	}
	d.keep(stop.State)
	d.waitFor(t, "down after stop", func(st core.DeploymentStatus) string {
		if ss := st.Service("api"); ss == nil || ss.Health != core.HealthDown || ss.Ready != 0 {
			return "api is not down with 0 ready"
		}
		return ""
	})
	start, err := s.client.Start(d.ctx(t), &sdk.StartRequest{Deployment: d.spec.Ref(), State: d.state, Service: "api"})
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	d.keep(start.State)
	d.waitFor(t, "back to 2 replicas after start", serviceReady("api", 2))
}

func (s *suite) testLogs(t *testing.T) {
	d := s.newDeployment(t, map[string]int{"api": 2})
	d.apply(t)
	d.waitFor(t, "ready after apply", d.allReady)
	lines := d.waitLogs(t, 3)
	perReplica := map[string]int{}
	for i, l := range lines {
		perReplica[l.Replica]++
		if l.Service != "api" || l.Replica == "" || l.Time.IsZero() {
			t.Errorf("logs: line %d is %+v, want service api, a replica and a time", i, l)
		}
		if i > 0 && l.Time.Before(lines[i-1].Time) {
			t.Errorf("logs: line %d (%s) is older than the line before it (%s)", i, l.Time, lines[i-1].Time)
		}
	}
	for r, n := range perReplica {
		if n > 3 {
			t.Errorf("logs: tail 3 gave %d lines of %s", n, r)
		}
	}
	s.checkFollow(t, d)
}

// waitLogs reads the last tail lines of api until there is one.
func (d *deployment) waitLogs(t *testing.T, tail int) []sdk.LogLine {
	t.Helper()
	var lines []sdk.LogLine
	deadline := time.Now().Add(d.s.h.Timeout)
	for len(lines) == 0 && time.Now().Before(deadline) {
		err := d.client().Logs(d.ctx(t), &sdk.LogsRequest{Deployment: d.spec.Ref(), State: d.state, Service: "api", Tail: tail},
			func(l sdk.LogLine) error { lines = append(lines, l); return nil })
		if err != nil {
			t.Fatalf("logs: %v", err)
		}
		if len(lines) == 0 {
			time.Sleep(d.s.h.PollInterval)
		}
	}
	if len(lines) == 0 {
		t.Fatalf("logs: no line from api within %s", d.s.h.Timeout)
	}
	return lines
}

// checkFollow reads a followed stream until a line arrives, then cancels and
// expects the stream to end promptly without an error.
func (s *suite) checkFollow(t *testing.T, d *deployment) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make(chan struct{}, 1)
	done := make(chan error, 1)
	go func() {
		done <- s.client.Logs(ctx, &sdk.LogsRequest{Deployment: d.spec.Ref(), State: d.state, Service: "api", Follow: true, Tail: 1},
			func(sdk.LogLine) error {
				select {
				case got <- struct{}{}:
				default:
				}
				return nil
			})
	}()
	select {
	case <-got:
	case err := <-done:
		t.Fatalf("logs -follow ended before any line: %v", err)
	case <-time.After(s.h.Timeout):
		t.Fatalf("logs -follow: no line within %s", s.h.Timeout)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("logs -follow after cancel: %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Errorf("logs -follow did not end within 5s of cancel")
	}
}

func (s *suite) testExec(t *testing.T) {
	d := s.newDeployment(t, map[string]int{"api": 1})
	d.apply(t)
	d.waitFor(t, "ready after apply", d.allReady)
	exec := func(cmd []string, stdin string) (int, string) {
		var out, errOut bytes.Buffer
		req := &sdk.ExecRequest{Deployment: d.spec.Ref(), State: d.state, Service: "api", Command: cmd, Stdin: stdin != ""}
		resp, err := s.client.Exec(d.ctx(t), req, sdk.ExecStreams{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errOut})
		if err != nil {
			t.Fatalf("exec %q: %v", cmd, err)
		}
		return resp.ExitCode, out.String()
	}
	const input = "conformance stdin line\nsecond line\n"
	if code, out := exec(s.h.ExecCat, input); !exitCodeOK(s.h, code, 0) || out != input {
		t.Errorf("exec %q with stdin: exit %d, stdout %q; want exit 0 and stdout equal to stdin", s.h.ExecCat, code, out)
	}
	for _, want := range []int{0, 3, 42} {
		if code, _ := exec(s.h.ExecExit(want), ""); !exitCodeOK(s.h, code, want) {
			t.Errorf("exec %q: exit code %d, want %d", s.h.ExecExit(want), code, want)
		}
	}
	_, err := s.client.Exec(d.ctx(t), &sdk.ExecRequest{Deployment: d.spec.Ref(), State: d.state, Service: "no-such-service", Command: s.h.ExecExit(0)},
		sdk.ExecStreams{Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}})
	var notFound *sdk.NotFoundError
	if !errors.As(err, &notFound) {
		t.Errorf("exec in an unknown service: got %v, want NotFoundError", err)
	}
}

// exitCodeOK reports whether an exec's exit code is the one expected, or
// sdk.ExitCodeUnknown from a backend whose harness says it cannot know.
func exitCodeOK(h Harness, got, want int) bool {
	return got == want || h.ExecExitUnknown && got == sdk.ExitCodeUnknown
}

func (s *suite) testMetrics(t *testing.T) {
	d := s.newDeployment(t, map[string]int{"api": 2})
	d.apply(t)
	d.waitFor(t, "ready after apply", d.allReady)
	resp, err := s.client.Metrics(d.ctx(t), &sdk.MetricsRequest{Deployment: d.spec.Ref(), State: d.state, Service: "api"})
	if err != nil {
		t.Fatalf("metrics: %v", err)
	}
	replicas := map[string]bool{}
	for _, p := range resp.Points {
		replicas[p.Replica] = true
		if p.Service != "api" || p.Name == "" || p.Value < 0 || p.Time.IsZero() {
			t.Errorf("metrics: point %+v needs service api, a name, a time and a value >= 0", p)
		}
	}
	if len(replicas) != 2 {
		t.Errorf("metrics: points for replicas %v, want 2 replicas", slices.Sorted(maps.Keys(replicas)))
	}
}

func (s *suite) testNodeHealth(t *testing.T) {
	resp, err := s.client.NodeHealth(context.Background(), &sdk.NodeHealthRequest{})
	if err != nil {
		t.Fatalf("node health: %v", err)
	}
	if len(resp.Nodes) == 0 {
		t.Fatalf("node health: no nodes")
	}
	for _, n := range resp.Nodes {
		if n.Name == "" || !n.Health.Valid() {
			t.Errorf("node health: node %+v needs a name and a valid health", n)
		}
		if !n.Reachable && n.Health == core.HealthReady {
			t.Errorf("node health: node %s is unreachable but ready", n.Name)
		}
	}
}

// testUnsupported checks that each operation of an undeclared capability
// fails with an UnsupportedError naming the backend and the operation.
func (s *suite) testUnsupported(t *testing.T, c sdk.Capability) {
	ctx := context.Background()
	ref := core.DeploymentRef{Tenant: s.h.Tenant, Environment: "test", Name: "unsupported"}
	calls := map[string]func() error{
		"restart": func() error { _, err := s.client.Restart(ctx, &sdk.RestartRequest{Deployment: ref}); return err },
		"start":   func() error { _, err := s.client.Start(ctx, &sdk.StartRequest{Deployment: ref}); return err },
		"stop":    func() error { _, err := s.client.Stop(ctx, &sdk.StopRequest{Deployment: ref}); return err },
		"scale": func() error {
			_, err := s.client.Scale(ctx, &sdk.ScaleRequest{Deployment: ref, Service: "x"})
			return err
		},
		"logs": func() error {
			return s.client.Logs(ctx, &sdk.LogsRequest{Deployment: ref}, func(sdk.LogLine) error { return nil })
		},
		"exec": func() error {
			_, err := s.client.Exec(ctx, &sdk.ExecRequest{Deployment: ref}, sdk.ExecStreams{})
			return err
		},
		"metrics":     func() error { _, err := s.client.Metrics(ctx, &sdk.MetricsRequest{Deployment: ref}); return err },
		"node_health": func() error { _, err := s.client.NodeHealth(ctx, &sdk.NodeHealthRequest{}); return err },
	}
	ops := map[sdk.Capability][]string{
		sdk.CapRestart: {"restart"}, sdk.CapStartStop: {"start", "stop"}, sdk.CapScale: {"scale"},
		sdk.CapLogs: {"logs"}, sdk.CapExec: {"exec"}, sdk.CapMetrics: {"metrics"}, sdk.CapNodeHealth: {"node_health"},
	}
	for _, op := range ops[c] {
		err := calls[op]()
		var u *sdk.UnsupportedError
		if !errors.As(err, &u) || u.Op != op || u.Backend != s.info.Name {
			t.Errorf("%s on a backend without %s: got %v, want Unsupported{%s, %s}", op, c, err, s.info.Name, op)
		}
	}
}

func sortedKeys(m map[string]int) []string { return slices.Sorted(maps.Keys(m)) }
