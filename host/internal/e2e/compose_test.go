package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/host/internal/pluginmgr"
	"github.com/alphaswarm/controller/host/internal/testbin"
	"github.com/alphaswarm/controller/sdk"
	"github.com/alphaswarm/controller/sdk/pluginhost"
)

const (
	echoV1 = "alphaswarm/echo:e2e-v1"
	echoV2 = "alphaswarm/echo:e2e-v2"
)

var pluginDir string

func TestMain(m *testing.M) {
	if err := exec.Command("docker", "version").Run(); err != nil {
		if os.Getenv("CI") == "true" {
			fmt.Fprintf(os.Stderr, "FAIL: the end-to-end tests need a Docker Engine and CI=true: %v\n", err)
			os.Exit(1)
		}
		fmt.Fprintf(os.Stderr, "SKIP: no Docker Engine (%v); set CI=true to make this a failure\n", err)
		os.Exit(0)
	}
	tmp, err := os.MkdirTemp("", "e2e-")
	if err == nil {
		pluginDir = filepath.Join(tmp, "plugins")
		err = testbin.Build(testbin.ComposePlugin, filepath.Join(pluginDir, "swarm-backend-compose"))
	}
	if err == nil {
		err = buildEchoImage(tmp)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(tmp)
	os.Exit(code)
}

// buildEchoImage builds the echo workload FROM scratch with the docker CLI.
func buildEchoImage(dir string) error {
	ctxDir := filepath.Join(dir, "echo")
	if err := testbin.Build(testbin.EchoWorkload, filepath.Join(ctxDir, "echo")); err != nil {
		return err
	}
	dockerfile := "FROM scratch\nCOPY echo /echo\nENTRYPOINT [\"/echo\"]\n"
	if err := os.WriteFile(filepath.Join(ctxDir, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		return err
	}
	_, err := dockerCLI("build", "-q", "-t", echoV1, "-t", echoV2, ctxDir)
	return err
}

func dockerCLI(args ...string) (string, error) {
	var out, errOut bytes.Buffer
	cmd := exec.Command("docker", args...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("docker %s: %v: %s", strings.Join(args, " "), err, errOut.String())
	}
	return out.String(), nil
}

// engineContainer is what "docker ps --format json" says of a container.
type engineContainer struct {
	Names, Image, State, Labels string
}

// containers lists the project's containers as the engine sees them.
func containers(t *testing.T, project string) []engineContainer {
	t.Helper()
	out, err := dockerCLI("ps", "-a", "--no-trunc", "--filter", "label=com.docker.compose.project="+project, "--format", "{{json .}}")
	if err != nil {
		t.Fatal(err)
	}
	var list []engineContainer
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		var c engineContainer
		if err := json.Unmarshal([]byte(line), &c); err != nil {
			t.Fatalf("parse %q: %v", line, err)
		}
		list = append(list, c)
	}
	slices.SortFunc(list, func(a, b engineContainer) int { return strings.Compare(a.Names, b.Names) })
	return list
}

// expect checks the project's containers: name suffix -> state.
func expect(t *testing.T, step, project string, want map[string]string) {
	t.Helper()
	got := map[string]string{}
	for _, c := range containers(t, project) {
		got[strings.TrimPrefix(c.Names, project+"-")] = c.State
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("%s: engine runs %v, want %v", step, got, want)
	}
}

// TestComposeEndToEnd drives the compose plugin through the plugin manager
// over a deployment's whole life, checking the engine after every step.
func TestComposeEndToEnd(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	m := pluginmgr.New(pluginmgr.Config{PluginDirs: []string{pluginDir}, StartTimeout: 10 * time.Second})
	t.Cleanup(m.Close) // after the destroy below, which needs the plugin
	inst, err := m.Start(ctx, pluginmgr.InstanceConfig{Name: "local", Plugin: "compose",
		Config: json.RawMessage(`{"project_prefix": "e2e", "ready_timeout": "60s"}`)})
	if err != nil {
		t.Fatal(err)
	}
	c, err := inst.Client(ctx)
	if err != nil {
		t.Fatal(err)
	}
	spec := twoServices(fmt.Sprintf("shop%x", rand.Uint32()), echoV1)
	project := "e2e_" + spec.Tenant + "_" + spec.Environment + "_" + spec.Name
	d := &deployment{t: t, ctx: ctx, c: c, spec: spec}
	t.Cleanup(func() {
		c.Destroy(context.Background(), &sdk.DestroyRequest{Deployment: spec.Ref(), RemoveData: true})
	})

	d.apply()
	expect(t, "apply", project, map[string]string{"api-1": "running", "api-2": "running", "db-1": "running"})
	d.ready("apply")

	poller := startPoller(t, project+"_default", "http://api:8080/")
	time.Sleep(time.Second) // the poller is polling before the roll starts
	d.spec.Services[0].Image = echoV2
	d.apply()
	if requests, failures, out := stopPoller(t, poller); failures != 0 || requests < 20 {
		t.Fatalf("rolling update: %d requests, %d failed:\n%s", requests, failures, out)
	}
	expect(t, "update", project, map[string]string{"api-3": "running", "api-4": "running", "db-1": "running"})
	for _, c := range containers(t, project) {
		if strings.Contains(c.Names, "-api-") && c.Image != echoV2 {
			t.Fatalf("update: %s runs %s", c.Names, c.Image)
		}
	}

	d.scale(3)
	expect(t, "scale to 3", project, map[string]string{"api-3": "running", "api-4": "running", "api-5": "running", "db-1": "running"})
	d.scale(1)
	expect(t, "scale to 1", project, map[string]string{"api-3": "running", "db-1": "running"})
	d.ready("scale")

	d.checkLogs()
	d.checkExec()

	d.stop()
	expect(t, "stop", project, map[string]string{"api-3": "exited", "db-1": "exited"})
	d.start()
	expect(t, "start", project, map[string]string{"api-3": "running", "db-1": "running"})
	d.ready("start")

	if _, err := c.Destroy(ctx, &sdk.DestroyRequest{Deployment: spec.Ref(), State: d.state, RemoveData: true}); err != nil {
		t.Fatal(err)
	}
	expect(t, "destroy", project, map[string]string{})
	if out, _ := dockerCLI("network", "ls", "-q", "--filter", "label=com.docker.compose.project="+project); strings.TrimSpace(out) != "" {
		t.Fatalf("destroy left the network %s", out)
	}
}

func twoServices(name, apiImage string) core.DeploymentSpec {
	health := &core.HealthCheck{Kind: core.HealthCheckHTTP, Path: "/healthz", Port: "http",
		Interval: core.Duration(200 * time.Millisecond), Timeout: core.Duration(time.Second)}
	svc := func(name, image string, replicas int) core.ServiceSpec {
		return core.ServiceSpec{Name: name, Image: image, Replicas: replicas,
			Env:    map[string]string{"LOG_INTERVAL": "100ms"},
			Ports:  []core.Port{{Name: "http", Container: 8080, Protocol: core.ProtocolTCP}},
			Health: health}
	}
	api := svc("api", apiImage, 2)
	api.DependsOn = []string{"db"}
	return core.DeploymentSpec{Tenant: "acme", Environment: "e2e", Name: name,
		Services: []core.ServiceSpec{api, svc("db", echoV1, 1)}}
}

// deployment carries the state the host keeps between operations.
type deployment struct {
	t     *testing.T
	ctx   context.Context
	c     *pluginhost.Client
	spec  core.DeploymentSpec
	state []byte
}

func (d *deployment) keep(state []byte) {
	if state != nil {
		d.state = state
	}
}

func (d *deployment) apply() {
	d.t.Helper()
	resp, err := d.c.Apply(d.ctx, &sdk.ApplyRequest{Deployment: d.spec, PriorState: d.state}, nil)
	if resp != nil {
		d.keep(resp.State)
	}
	if err != nil {
		d.t.Fatalf("apply: %v", err)
	}
}

func (d *deployment) ready(step string) {
	d.t.Helper()
	resp, err := d.c.Status(d.ctx, &sdk.StatusRequest{Deployment: d.spec.Ref(), State: d.state})
	if err != nil || resp.Status.Health != core.HealthReady {
		d.t.Fatalf("%s: status %+v, %v; want ready", step, resp, err)
	}
}

func (d *deployment) scale(n int) {
	d.t.Helper()
	resp, err := d.c.Scale(d.ctx, &sdk.ScaleRequest{Deployment: d.spec.Ref(), State: d.state, Service: "api", Replicas: n})
	if err != nil {
		d.t.Fatalf("scale to %d: %v", n, err)
	}
	d.keep(resp.State)
}

func (d *deployment) stop() {
	d.t.Helper()
	resp, err := d.c.Stop(d.ctx, &sdk.StopRequest{Deployment: d.spec.Ref(), State: d.state})
	if err != nil {
		d.t.Fatalf("stop: %v", err)
	}
	d.keep(resp.State)
}

func (d *deployment) start() {
	d.t.Helper()
	resp, err := d.c.Start(d.ctx, &sdk.StartRequest{Deployment: d.spec.Ref(), State: d.state})
	if err != nil {
		d.t.Fatalf("start: %v", err)
	}
	d.keep(resp.State)
}

// checkLogs follows api's logs until a tick line arrives from the replica.
func (d *deployment) checkLogs() {
	d.t.Helper()
	ctx, cancel := context.WithTimeout(d.ctx, 20*time.Second)
	defer cancel()
	var got []sdk.LogLine
	err := d.c.Logs(ctx, &sdk.LogsRequest{Deployment: d.spec.Ref(), State: d.state, Service: "api", Follow: true, Tail: 5},
		func(l sdk.LogLine) error {
			got = append(got, l)
			if strings.HasPrefix(l.Message, "tick") && len(got) > 5 {
				cancel()
			}
			return nil
		})
	if err != nil || len(got) <= 5 {
		d.t.Fatalf("logs: %d lines, %v", len(got), err)
	}
	for _, l := range got {
		if l.Service != "api" || l.Replica != "api-3" {
			d.t.Fatalf("logs: line from %s/%s", l.Service, l.Replica)
		}
	}
}

func (d *deployment) checkExec() {
	d.t.Helper()
	var out bytes.Buffer
	resp, err := d.c.Exec(d.ctx, &sdk.ExecRequest{Deployment: d.spec.Ref(), State: d.state, Service: "api",
		Command: []string{"/echo", "check"}}, sdk.ExecStreams{Stdout: &out, Stderr: &out})
	if err != nil || resp.ExitCode != 0 {
		d.t.Fatalf("exec /echo check: %+v, %v, %s", resp, err, out.String())
	}
}

func startPoller(t *testing.T, network, url string) string {
	t.Helper()
	id, err := dockerCLI("run", "-d", "--network", network, echoV1, "poll", url, "20ms")
	if err != nil {
		t.Fatal(err)
	}
	id = strings.TrimSpace(id)
	t.Cleanup(func() { dockerCLI("rm", "-f", id) })
	return id
}

func stopPoller(t *testing.T, id string) (requests, failures int, out string) {
	t.Helper()
	if _, err := dockerCLI("kill", "--signal", "TERM", id); err != nil {
		t.Fatal(err)
	}
	if _, err := dockerCLI("wait", id); err != nil {
		t.Fatal(err)
	}
	out, err := dockerCLI("logs", id)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(out, "\n") {
		if _, err := fmt.Sscanf(line, "requests=%d failures=%d", &requests, &failures); err == nil {
			return requests, failures, out
		}
	}
	t.Fatalf("no summary from the poller:\n%s", out)
	return
}
