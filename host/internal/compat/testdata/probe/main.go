// Command probe is the compatibility test's host: it launches a backend
// plugin (the memory example) the way the host does and drives every
// operation of protocol 1 across the process boundary. It prints one line per
// operation with what a host would rely on, and exits 1 at the first answer
// that is wrong.
//
// The same source builds against the SDK of two commits: launch_new.go for
// this tree (sdk/pluginhost), launch_old.go (build tag compat_old) for a tree
// from before the host half left package sdk. Everything else here uses only
// what both SDKs have.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/sdk"
)

func main() {
	plugin := flag.String("plugin", "", "plugin binary to launch")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := probe(ctx, *plugin); err != nil {
		fmt.Fprintf(os.Stderr, "probe: %v\n", err)
		os.Exit(1)
	}
}

// say prints one line of the transcript.
func say(format string, args ...any) { fmt.Printf(format+"\n", args...) }

func probe(ctx context.Context, path string) error {
	c, err := launch(ctx, path)
	if err != nil {
		return fmt.Errorf("launch: %w", err)
	}
	defer c.Close()

	info := c.Info()
	var attrs []string
	for _, a := range info.ConfigSchema.Attributes {
		attrs = append(attrs, a.Name)
	}
	say("info: name=%s protocol=%d capabilities=%v attributes=%v", info.Name, info.Protocol, info.Capabilities, attrs)
	if info.Protocol != 1 || len(info.Capabilities) != len(sdk.AllCapabilities) {
		return fmt.Errorf("info: want protocol 1 and every capability, got %+v", info)
	}

	_, err = c.Configure(ctx, &sdk.ConfigureRequest{Instance: "compat", Config: json.RawMessage(`{"latency": "soon"}`)})
	var invalid *sdk.InvalidConfigError
	if !errors.As(err, &invalid) {
		return fmt.Errorf("configure with a bad latency: got %v, want an InvalidConfigError", err)
	}
	say("configure bad: InvalidConfigError path=%s", invalid.Path)
	if _, err := c.Configure(ctx, &sdk.ConfigureRequest{Instance: "compat", Config: json.RawMessage(`{"log_interval": "20ms"}`)}); err != nil {
		return fmt.Errorf("configure: %w", err)
	}
	say("configure: ok")

	spec := core.DeploymentSpec{Tenant: "acme", Environment: "compat", Name: "shop", Services: []core.ServiceSpec{
		{Name: "api", Image: "shop/api:1", Replicas: 2, Env: map[string]string{"MODE": "compat"},
			Ports: []core.Port{{Name: "http", Container: 8080, Protocol: core.ProtocolTCP}}},
		{Name: "worker", Image: "shop/worker:1", Replicas: 1, DependsOn: []string{"api"}},
	}}
	bad := spec
	bad.Services = []core.ServiceSpec{{Name: "api", Image: "shop/api:1", Replicas: -1}}
	val, err := c.Validate(ctx, &sdk.ValidateRequest{Deployment: bad})
	if err != nil {
		return fmt.Errorf("validate: %w", err)
	}
	var paths []string
	for _, d := range val.Diagnostics {
		paths = append(paths, string(d.Severity)+":"+d.Path)
	}
	say("validate bad: %v", paths)
	if len(paths) == 0 {
		return errors.New("validate: a negative replica count passed")
	}
	if val, err = c.Validate(ctx, &sdk.ValidateRequest{Deployment: spec}); err != nil || len(val.Diagnostics) != 0 {
		return fmt.Errorf("validate: %v, %+v", err, val)
	}
	say("validate: ok")

	plan, err := c.Plan(ctx, &sdk.PlanRequest{Deployment: spec})
	if err != nil {
		return fmt.Errorf("plan: %w", err)
	}
	say("plan: %s", changes(plan.Services))

	var events []string
	applied, err := c.Apply(ctx, &sdk.ApplyRequest{Deployment: spec}, func(e core.Event) {
		events = append(events, e.Service+": "+e.Message)
		if e.Time.IsZero() {
			events = append(events, "(an event without a time)")
		}
	})
	if err != nil {
		return fmt.Errorf("apply: %w", err)
	}
	state := applied.State
	say("apply: %d events, last %q", len(events), events[len(events)-1])
	for _, e := range events {
		say("  event %s", e)
	}
	plan, err = c.Plan(ctx, &sdk.PlanRequest{Deployment: spec, PriorState: state})
	if err != nil {
		return fmt.Errorf("plan after apply: %w", err)
	}
	say("plan after apply: %s", changes(plan.Services))

	ref := spec.Ref()
	if err := status(ctx, c, "status", ref, state); err != nil {
		return err
	}

	scaled, err := c.Scale(ctx, &sdk.ScaleRequest{Deployment: ref, State: state, Service: "api", Replicas: 3})
	if err != nil {
		return fmt.Errorf("scale: %w", err)
	}
	state = scaled.State
	if err := status(ctx, c, "scale api to 3", ref, state); err != nil {
		return err
	}

	unknown := core.DeploymentRef{Tenant: "acme", Environment: "compat", Name: "nowhere"}
	_, err = c.Scale(ctx, &sdk.ScaleRequest{Deployment: unknown, Service: "api", Replicas: 1})
	var notFound *sdk.NotFoundError
	if !errors.As(err, &notFound) {
		return fmt.Errorf("scale an unknown deployment: got %v, want a NotFoundError", err)
	}
	say("scale unknown deployment: NotFoundError %q", notFound.What)

	restarted, err := c.Restart(ctx, &sdk.RestartRequest{Deployment: ref, State: state, Service: "api"})
	if err != nil {
		return fmt.Errorf("restart: %w", err)
	}
	state = restarted.State
	st, err := c.Status(ctx, &sdk.StatusRequest{Deployment: ref, State: state})
	if err != nil {
		return fmt.Errorf("status after restart: %w", err)
	}
	var restarts []int
	for _, r := range st.Status.Service("api").Replicas {
		restarts = append(restarts, r.Restarts)
	}
	say("restart api: restarts %v", restarts)

	stopped, err := c.Stop(ctx, &sdk.StopRequest{Deployment: ref, State: state, Service: "worker"})
	if err != nil {
		return fmt.Errorf("stop: %w", err)
	}
	state = stopped.State
	if err := status(ctx, c, "stop worker", ref, state); err != nil {
		return err
	}
	started, err := c.Start(ctx, &sdk.StartRequest{Deployment: ref, State: state, Service: "worker"})
	if err != nil {
		return fmt.Errorf("start: %w", err)
	}
	state = started.State
	if err := status(ctx, c, "start worker", ref, state); err != nil {
		return err
	}

	time.Sleep(50 * time.Millisecond) // the simulated replicas log every 20ms
	var lines []sdk.LogLine
	err = c.Logs(ctx, &sdk.LogsRequest{Deployment: ref, State: state, Service: "api"}, func(l sdk.LogLine) error {
		lines = append(lines, l)
		return nil
	})
	if err != nil {
		return fmt.Errorf("logs: %w", err)
	}
	services := map[string]bool{}
	for _, l := range lines {
		services[l.Service] = true
		if l.Time.IsZero() || l.Replica == "" || l.Message == "" {
			return fmt.Errorf("logs: incomplete line %+v", l)
		}
	}
	if len(lines) == 0 || len(services) != 1 || !services["api"] {
		return fmt.Errorf("logs: %d lines from %v, want some from api alone", len(lines), services)
	}
	say("logs api: lines from %v", slices.Sorted(func(yield func(string) bool) {
		for s := range services {
			if !yield(s) {
				return
			}
		}
	}))

	var stdout, stderr bytes.Buffer
	input := strings.Repeat("compat stdin ", 1000)
	ex, err := c.Exec(ctx, &sdk.ExecRequest{Deployment: ref, State: state, Service: "api", Command: []string{"cat"}, Stdin: true},
		sdk.ExecStreams{Stdin: strings.NewReader(input), Stdout: &stdout, Stderr: &stderr})
	if err != nil {
		return fmt.Errorf("exec: %w", err)
	}
	if stdout.String() != input || ex.ExitCode != 0 {
		return fmt.Errorf("exec cat: exit %d, %d bytes echoed of %d", ex.ExitCode, stdout.Len(), len(input))
	}
	say("exec cat: exit %d, %d bytes echoed", ex.ExitCode, stdout.Len())
	ex, err = c.Exec(ctx, &sdk.ExecRequest{Deployment: ref, State: state, Service: "api", Command: []string{"sh", "-c", "exit 3"}},
		sdk.ExecStreams{Stdout: &stdout, Stderr: &stderr})
	if err != nil {
		return fmt.Errorf("exec exit: %w", err)
	}
	say("exec exit 3: exit %d", ex.ExitCode)

	metrics, err := c.Metrics(ctx, &sdk.MetricsRequest{Deployment: ref, State: state})
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	var names []string
	for _, p := range metrics.Points {
		if p.Time.IsZero() {
			return fmt.Errorf("metrics: a point without a time: %+v", p)
		}
		names = append(names, p.Service+"/"+p.Name)
	}
	slices.Sort(names)
	say("metrics: %v", names)

	nodes, err := c.NodeHealth(ctx, &sdk.NodeHealthRequest{})
	if err != nil {
		return fmt.Errorf("node health: %w", err)
	}
	for _, n := range nodes.Nodes {
		say("node health: %s %s reachable=%v labels=%v", n.Name, n.Health, n.Reachable, n.Labels)
	}
	if len(nodes.Nodes) == 0 {
		return errors.New("node health: no node")
	}

	if _, err := c.Destroy(ctx, &sdk.DestroyRequest{Deployment: ref, State: state, RemoveData: true}); err != nil {
		return fmt.Errorf("destroy: %w", err)
	}
	say("destroy: ok")
	return nil
}

// status prints the deployment's health per service.
func status(ctx context.Context, c *client, what string, ref core.DeploymentRef, state []byte) error {
	resp, err := c.Status(ctx, &sdk.StatusRequest{Deployment: ref, State: state})
	if err != nil {
		return fmt.Errorf("%s: status: %w", what, err)
	}
	st := resp.Status
	if st.Deployment != ref {
		return fmt.Errorf("%s: status of %v, want %v", what, st.Deployment, ref)
	}
	var parts []string
	for _, s := range st.Services {
		parts = append(parts, fmt.Sprintf("%s %s %d/%d", s.Name, s.Health, s.Ready, s.Desired))
	}
	say("%s: %s [%s]", what, st.Health, strings.Join(parts, ", "))
	return nil
}

func changes(cs []sdk.ServiceChange) string {
	var parts []string
	for _, c := range cs {
		parts = append(parts, fmt.Sprintf("%s %s (%d fields)", c.Service, c.Action, len(c.Fields)))
	}
	return strings.Join(parts, ", ")
}
