package compose_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/plugins/compose"
	"github.com/alphaswarm/controller/sdk"
	"github.com/alphaswarm/controller/sdk/backendtest"
	"github.com/alphaswarm/controller/sdk/pluginhost"
)

var deploymentSeq atomic.Int64

// fixture is one deployment on the real engine, destroyed with its data
// when the test ends.
type fixture struct {
	t       *testing.T
	c       *pluginhost.Client
	spec    core.DeploymentSpec
	state   []byte
	project string
	events  []core.Event
}

func newFixture(t *testing.T, config string, services ...core.ServiceSpec) *fixture {
	t.Helper()
	c := backendtest.InProcess(func() sdk.Backend { return compose.New() })(t)
	if _, err := c.Configure(context.Background(), &sdk.ConfigureRequest{Config: json.RawMessage(config)}); err != nil {
		t.Fatalf("configure: %v", err)
	}
	name := fmt.Sprintf("t%x-%d", rand.Uint32(), deploymentSeq.Add(1))
	f := &fixture{t: t, c: c, project: "ct_acme_test_" + name,
		spec: core.DeploymentSpec{Tenant: "acme", Environment: "test", Name: name, Services: services}}
	t.Cleanup(func() {
		_, err := c.Destroy(context.Background(), &sdk.DestroyRequest{Deployment: f.spec.Ref(), RemoveData: true})
		if err != nil {
			t.Errorf("destroy %s: %v", f.project, err)
		}
	})
	return f
}

func (f *fixture) apply() error {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	f.events = nil
	resp, err := f.c.Apply(ctx, &sdk.ApplyRequest{Deployment: f.spec, PriorState: f.state, Secrets: sdk.SecretValues{"shop/token": "s3cret-value"}},
		func(e core.Event) { f.events = append(f.events, e) })
	if resp != nil {
		f.state = resp.State
	}
	return err
}

func (f *fixture) mustApply() {
	f.t.Helper()
	if err := f.apply(); err != nil {
		f.t.Fatalf("apply: %v", err)
	}
}

// containers lists the engine's containers of the project, by label.
func (f *fixture) containers(extra ...string) []container.Summary {
	f.t.Helper()
	args := filters.NewArgs(filters.Arg("label", "com.docker.compose.project="+f.project))
	for _, e := range extra {
		args.Add("label", e)
	}
	list, err := docker.ContainerList(context.Background(), container.ListOptions{All: true, Filters: args})
	if err != nil {
		f.t.Fatal(err)
	}
	return list
}

// appliedAPI is a deployment of one echo replica called api, applied.
func appliedAPI(t *testing.T) *fixture {
	t.Helper()
	api := named("api", echoService(echoV1))
	api.Replicas = 1
	f := newFixture(t, testConfig, api)
	f.mustApply()
	return f
}

func named(name string, s core.ServiceSpec) core.ServiceSpec {
	s.Name = name
	return s
}

// TestApplyCreatesAComposeProject checks what the engine really runs after
// an apply: compose labels, one network with aliases, a named volume,
// environment with the secret, limits, restart policy and published port.
func TestApplyCreatesAComposeProject(t *testing.T) {
	t.Parallel()
	api := named("api", echoService(echoV1))
	api.Replicas = 1
	api.Ports[0].Host = 28481
	api.Resources = core.Resources{CPU: 0.5, MemoryBytes: 64 << 20}
	api.SecretEnv = []core.SecretRef{{Env: "TOKEN", Ref: "shop/token"}}
	api.Volumes = []core.VolumeMount{{Volume: "data", Path: "/data"}}
	api.Labels = map[string]string{"team": "shop"}
	f := newFixture(t, testConfig, api)
	f.mustApply()

	list := f.containers()
	if len(list) != 1 {
		t.Fatalf("want 1 container, got %d", len(list))
	}
	in, err := docker.ContainerInspect(context.Background(), list[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	wantLabels := map[string]string{
		"com.docker.compose.project": f.project, "com.docker.compose.service": "api",
		"com.docker.compose.container-number": "1", "com.docker.compose.oneoff": "False",
		"io.alphaswarm.tenant": "acme", "io.alphaswarm.deployment": f.spec.Name, "team": "shop",
	}
	for k, v := range wantLabels {
		if in.Config.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, in.Config.Labels[k], v)
		}
	}
	if in.Name != "/"+f.project+"-api-1" {
		t.Errorf("container name %s", in.Name)
	}
	if !containsString(in.Config.Env, "TOKEN=s3cret-value") {
		t.Errorf("secret not in the container's environment: %v", in.Config.Env)
	}
	if strings.Contains(string(f.state), "s3cret-value") {
		t.Errorf("the state blob holds the secret value: %s", f.state)
	}
	if in.HostConfig.NanoCPUs != 5e8 || in.HostConfig.Memory != 64<<20 || in.HostConfig.RestartPolicy.Name != "unless-stopped" {
		t.Errorf("limits and policy: cpus %d, memory %d, restart %q", in.HostConfig.NanoCPUs, in.HostConfig.Memory, in.HostConfig.RestartPolicy.Name)
	}
	if b := in.HostConfig.PortBindings["8080/tcp"]; len(b) != 1 || b[0].HostPort != "28481" {
		t.Errorf("port bindings %v", in.HostConfig.PortBindings)
	}
	ep := in.NetworkSettings.Networks[f.project+"_default"]
	if ep == nil || !containsString(ep.Aliases, "api") {
		t.Errorf("not on %s_default with alias api: %+v", f.project, in.NetworkSettings.Networks)
	}
	vols, _ := docker.VolumeList(context.Background(), volume.ListOptions{Filters: filters.NewArgs(filters.Arg("label", "com.docker.compose.project="+f.project))})
	if len(vols.Volumes) != 1 || vols.Volumes[0].Name != f.project+"_data" {
		t.Errorf("volumes %+v", vols.Volumes)
	}
}

// TestDestroyKeepsVolumesUnlessAsked is docker compose down without -v.
func TestDestroyKeepsVolumesUnlessAsked(t *testing.T) {
	t.Parallel()
	api := named("api", echoService(echoV1))
	api.Replicas = 1
	api.Volumes = []core.VolumeMount{{Volume: "data", Path: "/data"}}
	f := newFixture(t, testConfig, api)
	f.mustApply()
	ctx := context.Background()
	if _, err := f.c.Destroy(ctx, &sdk.DestroyRequest{Deployment: f.spec.Ref(), State: f.state}); err != nil {
		t.Fatal(err)
	}
	byProject := filters.NewArgs(filters.Arg("label", "com.docker.compose.project="+f.project))
	vols, _ := docker.VolumeList(ctx, volume.ListOptions{Filters: byProject})
	nets, _ := docker.NetworkList(ctx, network.ListOptions{Filters: byProject})
	if len(f.containers()) != 0 || len(nets) != 0 || len(vols.Volumes) != 1 {
		t.Fatalf("after destroy: %d containers, %d networks, %d volumes; want 0, 0, 1", len(f.containers()), len(nets), len(vols.Volumes))
	}
	if _, err := f.c.Destroy(ctx, &sdk.DestroyRequest{Deployment: f.spec.Ref(), RemoveData: true}); err != nil {
		t.Fatal(err)
	}
	if vols, _ := docker.VolumeList(ctx, volume.ListOptions{Filters: byProject}); len(vols.Volumes) != 0 {
		t.Errorf("destroy with remove data left %d volumes", len(vols.Volumes))
	}
}

// TestDependsOnWaitsForHealth: api depends on db, whose health check fails
// at first; api must not start before db is ready.
func TestDependsOnWaitsForHealth(t *testing.T) {
	t.Parallel()
	db := named("db", echoService(echoV1))
	db.Replicas = 1
	api := named("api", echoService(echoV1))
	api.Replicas = 1
	api.DependsOn = []string{"db"}
	f := newFixture(t, testConfig, api, db)
	f.mustApply()
	dbReady, apiStarted := -1, -1
	for i, e := range f.events {
		switch {
		case e.Service == "db" && strings.HasSuffix(e.Message, "is ready"):
			dbReady = i
		case e.Service == "api" && strings.HasPrefix(e.Message, "started"):
			apiStarted = i
		}
	}
	if dbReady < 0 || apiStarted < 0 || apiStarted < dbReady {
		t.Errorf("api started at event %d, db ready at event %d; want api after db:\n%+v", apiStarted, dbReady, f.events)
	}
}

// TestFaultsGiveClearErrors applies what the engine cannot run and checks
// that each failure names the service and the cause, and leaves nothing
// behind that destroy cannot find.
func TestFaultsGiveClearErrors(t *testing.T) {
	t.Parallel()
	missing := named("api", echoService("alphaswarm/not-built-anywhere:1"))
	missing.Replicas = 1
	exits := named("api", echoService(echoV1))
	exits.Replicas, exits.Args = 1, []string{"exit", "3"}
	sick := named("api", echoService(echoV1))
	sick.Replicas = 1
	sick.Env = map[string]string{"UNHEALTHY_AT_START": "1"}
	tiny := named("api", echoService(echoV1))
	tiny.Replicas, tiny.Resources.MemoryBytes = 1, 1<<20
	cases := []struct {
		name, config string
		svc          core.ServiceSpec
		want         []string
	}{
		{"image missing, pull forbidden", `{"project_prefix": "ct", "pull_policy": "never"}`, missing,
			[]string{`service "api"`, "alphaswarm/not-built-anywhere:1", "not on the engine"}},
		{"image missing, no registry", testConfig, missing,
			[]string{`service "api"`, "alphaswarm/not-built-anywhere:1", "cannot be pulled"}},
		{"exits at once", testConfig, exits, []string{`service "api"`, "exited with code 3"}},
		{"never healthy", `{"project_prefix": "ct", "ready_timeout": "2s", "stop_timeout": "1s"}`, sick,
			[]string{`service "api"`, "did not become ready within 2s", "503"}},
		{"memory too small", testConfig, tiny, []string{`service "api"`, "emory"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, tc.config, tc.svc)
			err := f.apply()
			if err == nil {
				t.Fatalf("apply succeeded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if n := len(f.containers()); n != 0 {
				t.Errorf("a failed replica was left behind: %d containers", n)
			}
			f.destroyFindsEverything()
		})
	}
}

// destroyFindsEverything destroys without state, as after a lost or failed
// apply, and expects nothing of the project left on the engine.
func (f *fixture) destroyFindsEverything() {
	f.t.Helper()
	ctx := context.Background()
	if _, err := f.c.Destroy(ctx, &sdk.DestroyRequest{Deployment: f.spec.Ref(), RemoveData: true}); err != nil {
		f.t.Fatalf("destroy without state: %v", err)
	}
	byProject := filters.NewArgs(filters.Arg("label", "com.docker.compose.project="+f.project))
	nets, _ := docker.NetworkList(ctx, network.ListOptions{Filters: byProject})
	vols, _ := docker.VolumeList(ctx, volume.ListOptions{Filters: byProject})
	if len(f.containers()) != 0 || len(nets) != 0 || len(vols.Volumes) != 0 {
		f.t.Errorf("destroy left %d containers, %d networks, %d volumes", len(f.containers()), len(nets), len(vols.Volumes))
	}
}

// TestApplyReplacesItsOwnLeftover: a container of this deployment that the
// plugin's list did not see (the engine was still creating it for an apply
// that was killed or cancelled) holds a replica's name; apply removes it and
// creates the replica, where a stranger's container would be refused.
func TestApplyReplacesItsOwnLeftover(t *testing.T) {
	t.Parallel()
	api := named("api", echoService(echoV1))
	api.Replicas = 1
	f := newFixture(t, testConfig, api)
	ctx := context.Background()
	// The deployment's labels, but not yet a service's: the listing a
	// re-apply starts from does not count it as a replica of api.
	leftover, err := docker.ContainerCreate(ctx, &container.Config{Image: echoV1, Labels: map[string]string{
		"com.docker.compose.project": f.project, "io.alphaswarm.managed-by": "alphaswarm",
		"io.alphaswarm.tenant": f.spec.Tenant, "io.alphaswarm.environment": f.spec.Environment, "io.alphaswarm.deployment": f.spec.Name,
	}}, nil, nil, nil, f.project+"-api-1")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		docker.ContainerRemove(context.Background(), leftover.ID, container.RemoveOptions{Force: true})
	})
	if err := f.apply(); err != nil {
		t.Fatalf("apply with its own leftover holding the name: %v", err)
	}
	if _, err := docker.ContainerInspect(ctx, leftover.ID); !client.IsErrNotFound(err) {
		t.Errorf("the leftover container is still there: %v", err)
	}
	in, err := docker.ContainerInspect(ctx, f.project+"-api-1")
	if err != nil || in.Config.Labels["com.docker.compose.service"] != "api" {
		t.Errorf("replica api-1 after apply: %v", err)
	}
}

// TestNameTakenByAnotherContainer: a container the plugin did not create
// holds the name a replica needs; apply names the service and the conflict,
// and leaves the stranger alone.
func TestNameTakenByAnotherContainer(t *testing.T) {
	t.Parallel()
	api := named("api", echoService(echoV1))
	api.Replicas = 1
	f := newFixture(t, testConfig, api)
	ctx := context.Background()
	stranger, err := docker.ContainerCreate(ctx, &container.Config{Image: echoV1}, nil, nil, nil, f.project+"-api-1")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		docker.ContainerRemove(context.Background(), stranger.ID, container.RemoveOptions{Force: true})
	})
	err = f.apply()
	if err == nil || !strings.Contains(err.Error(), `service "api"`) || !strings.Contains(err.Error(), "already in use") {
		t.Errorf("apply with the name taken: %v", err)
	}
	if _, err := docker.ContainerInspect(ctx, stranger.ID); err != nil {
		t.Errorf("the stranger container was touched: %v", err)
	}
}

func TestExecWithTTY(t *testing.T) {
	t.Parallel()
	f := appliedAPI(t)
	var out strings.Builder
	resize := make(chan sdk.TermSize, 1)
	resize <- sdk.TermSize{Rows: 40, Cols: 100}
	close(resize)
	resp, err := f.c.Exec(context.Background(), &sdk.ExecRequest{Deployment: f.spec.Ref(), State: f.state, Service: "api",
		Command: []string{"/echo", "print", "hello", "tty"}, TTY: true, Size: sdk.TermSize{Rows: 24, Cols: 80}},
		sdk.ExecStreams{Stdout: &out, Stderr: &out, Resize: resize})
	if err != nil || resp.ExitCode != 0 {
		t.Fatalf("exec with a TTY: %+v, %v", resp, err)
	}
	if out.String() != "hello tty\r\n" {
		t.Errorf("TTY output %q, want the line with a terminal's CRLF", out.String())
	}
}

// TestExecTTYSizeReachesTheReplica reads the terminal's size from inside
// the replica: the size the exec starts with, then a resize sent once the
// command has printed the first one.
func TestExecTTYSizeReachesTheReplica(t *testing.T) {
	t.Parallel()
	f := appliedAPI(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out := &lineWriter{lines: make(chan string, 16)}
	resize := make(chan sdk.TermSize, 1)
	type result struct {
		resp *sdk.ExecResponse
		err  error
	}
	done := make(chan result, 1)
	go func() {
		defer close(out.lines)
		resp, err := f.c.Exec(ctx, &sdk.ExecRequest{Deployment: f.spec.Ref(), State: f.state, Service: "api",
			Command: []string{"/echo", "winsize", "40x100"}, TTY: true, Size: sdk.TermSize{Rows: 24, Cols: 80}},
			sdk.ExecStreams{Stdout: out, Stderr: out, Resize: resize})
		done <- result{resp, err}
	}()
	var seen []string
	resized := false
	for line := range out.lines {
		seen = append(seen, line)
		if line == "24 80" && !resized {
			resize <- sdk.TermSize{Rows: 40, Cols: 100}
			resized = true
		}
	}
	close(resize)
	r := <-done
	if r.err != nil || r.resp.ExitCode != 0 {
		t.Fatalf("exec of /echo winsize: %+v, %v; it printed %q", r.resp, r.err, seen)
	}
	// The first line may be 0 0 when the command reads its terminal before
	// the first size is set; the first size must arrive all the same.
	if i := slices.Index(seen, "24 80"); i < 0 || i > 1 || seen[len(seen)-1] != "40 100" {
		t.Errorf("the replica's terminal sizes were %q; want 24 80 (the exec's size) and then 40 100 (the resize)", seen)
	}
}

// lineWriter sends each complete line written to it, without "\r\n".
type lineWriter struct {
	mu    sync.Mutex
	buf   []byte
	lines chan string
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := slices.Index(w.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		w.lines <- strings.TrimRight(string(w.buf[:i]), "\r")
		w.buf = w.buf[i+1:]
	}
}

func TestPortInUseNamesServiceAndPort(t *testing.T) {
	t.Parallel()
	first := named("web", echoService(echoV1))
	first.Replicas, first.Ports[0].Host = 1, 28482
	a := newFixture(t, testConfig, first)
	a.mustApply()
	b := newFixture(t, testConfig, first)
	err := b.apply()
	if err == nil || !strings.Contains(err.Error(), `service "web"`) || !strings.Contains(err.Error(), "host port is already in use") {
		t.Errorf("second apply on the same host port: %v", err)
	}
}

func TestEngineUnreachableIsRetriable(t *testing.T) {
	t.Parallel()
	api := named("api", echoService(echoV1))
	api.Replicas = 1
	c := backendtest.InProcess(func() sdk.Backend { return compose.New() })(t)
	if _, err := c.Configure(context.Background(), &sdk.ConfigureRequest{Config: json.RawMessage(`{"host": "tcp://127.0.0.1:1"}`)}); err != nil {
		t.Fatal(err)
	}
	spec := core.DeploymentSpec{Tenant: "acme", Environment: "test", Name: "nowhere", Services: []core.ServiceSpec{api}}
	_, err := c.Apply(context.Background(), &sdk.ApplyRequest{Deployment: spec}, nil)
	var unavailable *sdk.UnavailableError
	if !errors.As(err, &unavailable) || !strings.Contains(err.Error(), "tcp://127.0.0.1:1") {
		t.Errorf("apply against no engine: %v, want a retriable error naming the address", err)
	}
	nodes, err := c.NodeHealth(context.Background(), &sdk.NodeHealthRequest{})
	if err != nil || len(nodes.Nodes) != 1 || nodes.Nodes[0].Reachable || nodes.Nodes[0].Health != core.HealthDown {
		t.Errorf("node health against no engine: %+v, %v", nodes, err)
	}
}

func TestValidateRejectsSharedHostPort(t *testing.T) {
	t.Parallel()
	web := named("web", echoService(echoV1))
	web.Replicas, web.Ports[0].Host = 2, 28483
	c := backendtest.InProcess(func() sdk.Backend { return compose.New() })(t)
	resp, err := c.Validate(context.Background(), &sdk.ValidateRequest{Deployment: core.DeploymentSpec{
		Tenant: "acme", Environment: "test", Name: "v", Services: []core.ServiceSpec{web}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Diagnostics) != 1 || resp.Diagnostics[0].Path != "service.web.port.http.host" {
		t.Errorf("diagnostics %+v, want one at service.web.port.http.host", resp.Diagnostics)
	}
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestRollingUpdateFailsNoRequest updates the image of a two-replica service
// while a client on the project network sends a request every 20ms on a
// fresh connection, and expects every request to succeed: the replicas are
// replaced one at a time, start-first, and leave gracefully.
func TestRollingUpdateFailsNoRequest(t *testing.T) {
	t.Parallel()
	api := named("api", echoService(echoV1))
	api.Replicas = 2
	// The default stop timeout: old replicas get time to finish what they
	// accepted, however busy the machine is.
	f := newFixture(t, `{"project_prefix": "ct"}`, api)
	f.mustApply()
	poller := startPoller(t, f.project+"_default", "http://api:8080/")
	time.Sleep(500 * time.Millisecond)

	f.spec.Services[0].Image = echoV2
	f.mustApply()
	requests, failures, out := stopPoller(t, poller)
	if failures != 0 || requests < 20 {
		var ips []string
		for _, c := range f.containers() {
			in, _ := docker.ContainerInspect(context.Background(), c.ID)
			ips = append(ips, in.Name+"="+in.NetworkSettings.Networks[f.project+"_default"].IPAddress)
		}
		t.Errorf("during the roll: %d requests, %d failed; want many requests and no failure:\n%s\nnow: %v\nevents: %+v", requests, failures, out, ips, f.events)
	}
	var order []string
	for _, e := range f.events {
		if strings.HasPrefix(e.Message, "started") || strings.HasPrefix(e.Message, "removed") {
			order = append(order, strings.Fields(e.Message)[0]+" "+e.Replica)
		}
	}
	want := []string{"started api-3", "removed api-1", "started api-4", "removed api-2"}
	if strings.Join(order, ", ") != strings.Join(want, ", ") {
		t.Errorf("roll order %v, want %v (start-first, one at a time)", order, want)
	}
	for _, c := range f.containers() {
		if c.Image != echoV2 {
			t.Errorf("%s still runs %s", c.Names[0], c.Image)
		}
	}
}

// startPoller runs "echo poll" on network, removed when the test ends.
func startPoller(t *testing.T, net, url string) string {
	t.Helper()
	ctx := context.Background()
	created, err := docker.ContainerCreate(ctx, &container.Config{Image: echoV1, Cmd: []string{"poll", url, "20ms"}},
		nil, &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{net: {}}}, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { docker.ContainerRemove(context.Background(), created.ID, container.RemoveOptions{Force: true}) })
	if err := docker.ContainerStart(ctx, created.ID, container.StartOptions{}); err != nil {
		t.Fatal(err)
	}
	return created.ID
}

// stopPoller sends SIGTERM and reads the poller's summary.
func stopPoller(t *testing.T, id string) (requests, failures int, out string) {
	t.Helper()
	ctx := context.Background()
	if err := docker.ContainerKill(ctx, id, "SIGTERM"); err != nil {
		t.Fatal(err)
	}
	wait, errc := docker.ContainerWait(ctx, id, container.WaitConditionNotRunning)
	select {
	case <-wait:
	case err := <-errc:
		t.Fatal(err)
	case <-time.After(10 * time.Second):
		t.Fatal("poller did not stop")
	}
	rc, err := docker.ContainerLogs(ctx, id, container.LogsOptions{ShowStdout: true, ShowStderr: true})
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var buf strings.Builder
	stdcopy.StdCopy(&buf, &buf, rc)
	out = buf.String()
	for _, line := range strings.Split(out, "\n") {
		if _, err := fmt.Sscanf(line, "requests=%d failures=%d", &requests, &failures); err == nil {
			return requests, failures, out
		}
	}
	t.Fatalf("no summary from the poller:\n%s", out)
	return 0, 0, out
}

// TestScaleToZeroAndBack scales a service without secrets away and back:
// with no replica left to copy, the new ones come from the spec, and a later
// apply of the same spec finds them current.
func TestScaleToZeroAndBack(t *testing.T) {
	t.Parallel()
	f := appliedAPI(t)
	ctx := context.Background()
	for _, n := range []int{0, 2} {
		resp, err := f.c.Scale(ctx, &sdk.ScaleRequest{Deployment: f.spec.Ref(), State: f.state, Service: "api", Replicas: n})
		if err != nil {
			t.Fatalf("scale to %d: %v", n, err)
		}
		f.state = resp.State
		if got := len(f.containers()); got != n {
			t.Fatalf("scale to %d: engine has %d containers", n, got)
		}
	}
	f.spec.Services[0].Replicas = 2
	f.mustApply()
	for _, e := range f.events {
		if strings.HasPrefix(e.Message, "started") || strings.HasPrefix(e.Message, "removed") {
			t.Errorf("apply after scaling replaced replicas: %s", e.Message)
		}
	}
}

func TestLogsSinceAndStreams(t *testing.T) {
	t.Parallel()
	f := appliedAPI(t)
	time.Sleep(1200 * time.Millisecond) // ticks every 100ms, every fifth on stderr
	since := time.Now().Add(-500 * time.Millisecond)
	var lines []sdk.LogLine
	err := f.c.Logs(context.Background(), &sdk.LogsRequest{Deployment: f.spec.Ref(), State: f.state, Service: "api", Since: since},
		func(l sdk.LogLine) error { lines = append(lines, l); return nil })
	if err != nil {
		t.Fatal(err)
	}
	streams := map[sdk.Stream]int{}
	for _, l := range lines {
		streams[l.Stream]++
		if l.Time.Before(since) {
			t.Errorf("line %q at %s is older than since %s", l.Message, l.Time, since)
		}
	}
	if streams[sdk.Stdout] == 0 || streams[sdk.Stderr] == 0 || len(lines) > 10 {
		t.Errorf("logs since 500ms ago: %d lines by stream %v; want a few, from both streams", len(lines), streams)
	}
}

// TestLogsFollowAddsNewReplicas follows logs, scales up, and expects the
// new replica's lines in the same follow, as docker compose logs -f shows.
func TestLogsFollowAddsNewReplicas(t *testing.T) {
	t.Parallel()
	f := appliedAPI(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var mu sync.Mutex
	replicas := map[string]bool{}
	done := make(chan error, 1)
	go func() {
		done <- f.c.Logs(ctx, &sdk.LogsRequest{Deployment: f.spec.Ref(), State: f.state, Service: "api", Follow: true, Tail: 1}, func(l sdk.LogLine) error {
			mu.Lock()
			defer mu.Unlock()
			replicas[l.Replica] = true
			return nil
		})
	}()
	seen := func(n int) func() bool {
		return func() bool { mu.Lock(); defer mu.Unlock(); return len(replicas) >= n }
	}
	waitFor(t, "a line from api-1", seen(1))
	if _, err := f.c.Scale(ctx, &sdk.ScaleRequest{Deployment: f.spec.Ref(), State: f.state, Service: "api", Replicas: 2}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a line from the replica scale added", seen(2))
	cancel()
	if err := <-done; err != nil {
		t.Errorf("follow ended with %v", err)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("no %s within 30s", what)
}

// TestApplyWithoutStateAdoptsWhatRuns applies a deployment, forgets its
// state as a host that stopped before recording it would, and applies
// again from nothing: the replicas of a service without secrets are
// adopted as they run, while a service with secrets is replaced, since
// nothing can tell whether its running replicas hold the current values.
func TestApplyWithoutStateAdoptsWhatRuns(t *testing.T) {
	t.Parallel()
	plain := named("api", echoService(echoV1))
	plain.Replicas = 2
	secret := named("worker", echoService(echoV1))
	secret.Replicas = 1
	secret.SecretEnv = []core.SecretRef{{Env: "TOKEN", Ref: "shop/token"}}
	f := newFixture(t, testConfig, plain, secret)
	f.mustApply()
	ids := func(service string) []string {
		var out []string
		for _, c := range f.containers("com.docker.compose.service=" + service) {
			out = append(out, c.ID)
		}
		slices.Sort(out)
		return out
	}
	apiBefore, workerBefore := ids("api"), ids("worker")
	plan, err := f.c.Plan(context.Background(), &sdk.PlanRequest{Deployment: f.spec})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range plan.Services {
		if c.Action != sdk.ActionNoop {
			t.Errorf("plan from no state: service %s: %s, want no-op", c.Service, c.Action)
		}
	}
	f.state = nil
	f.mustApply()
	if after := ids("api"); !slices.Equal(apiBefore, after) || len(after) != 2 {
		t.Errorf("api replicas were replaced on adoption: %v -> %v", apiBefore, after)
	}
	if after := ids("worker"); slices.Equal(workerBefore, after) || len(after) != 1 {
		t.Errorf("worker replicas (with a secret) after adoption: %v -> %v, want one new replica", workerBefore, after)
	}
}

// TestDeploymentsWhoseNamesJoinAlikeStayApart applies two deployments of
// different tenants whose tenant, environment and name join alike with
// '-' (a + b-c and a-b + c): each has its own project, network and
// containers, sees only its own, and destroying one leaves the other.
func TestDeploymentsWhoseNamesJoinAlikeStayApart(t *testing.T) {
	t.Parallel()
	name := fmt.Sprintf("j%x", rand.Uint32())
	api := named("api", echoService(echoV1))
	api.Replicas = 1
	first, second := newFixture(t, testConfig, api), newFixture(t, testConfig, api)
	first.spec.Tenant, first.spec.Environment, first.spec.Name = "a", "b-c", name
	second.spec.Tenant, second.spec.Environment, second.spec.Name = "a-b", "c", name
	first.project, second.project = "ct_a_b-c_"+name, "ct_a-b_c_"+name
	first.mustApply()
	second.mustApply()
	for _, f := range []*fixture{first, second} {
		if got := f.containers(); len(got) != 1 || got[0].Labels["io.alphaswarm.tenant"] != f.spec.Tenant {
			t.Fatalf("tenant %s: %d containers in %s", f.spec.Tenant, len(got), f.project)
		}
		st, err := f.c.Status(context.Background(), &sdk.StatusRequest{Deployment: f.spec.Ref(), State: f.state})
		if err != nil || len(st.Status.Services) != 1 || len(st.Status.Services[0].Replicas) != 1 {
			t.Errorf("tenant %s status: %+v, %v", f.spec.Tenant, st, err)
		}
	}
	if _, err := first.c.Destroy(context.Background(), &sdk.DestroyRequest{Deployment: first.spec.Ref(), State: first.state}); err != nil {
		t.Fatal(err)
	}
	if got := second.containers(); len(got) != 1 || got[0].State != "running" {
		t.Errorf("destroying tenant a's deployment touched tenant a-b's: %+v", got)
	}
}
