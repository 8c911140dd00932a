// Command world is the conformance kit's own backend: its replicas are files
// in a directory (the "dir" setting), so that what it runs can be inspected
// from outside the plugin process, as a real platform's objects can. Played
// straight it passes the whole kit; the "broken" setting selects one
// breakage of a promise, which the kit must catch:
//
//	memory-state        keeps its replicas in process memory, not in the world
//	duplicate-on-retry  names replicas at random and finds them only through
//	                    the state, so a re-apply after a crash duplicates them
//	secret-in-state     puts the secret values in the state blob
//	secret-on-stderr    logs the workload's environment, secrets included
//	ignore-cancel       goes on applying after its context ends
//	swallow-cancel      waits out the replica it is creating when its context
//	                    ends, then reports success
//	global-names        names replicas by service alone, so that two
//	                    deployments share them
package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"

	hclog "github.com/hashicorp/go-hclog"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/sdk"
)

func main() { sdk.Serve(&world{}) }

// Breakages is every value of the "broken" setting.
var breakages = []string{
	"memory-state", "duplicate-on-retry", "secret-in-state", "secret-on-stderr",
	"ignore-cancel", "swallow-cancel", "global-names", "validate-needs-configure",
}

// inMemory is the memory-state breakage's store: it lives as long as the
// process, which is the bug.
var inMemory = &memory{}

type world struct {
	mu     sync.Mutex
	store  store
	broken string
	step   time.Duration
	dir    string
}

// state is what the host keeps for a deployment.
type state struct {
	Spec core.DeploymentSpec `json:"spec"`
	// Replicas lists, per service, the replicas this plugin created; only the
	// duplicate-on-retry breakage reads it.
	Replicas map[string][]string `json:"replicas,omitempty"`
	// Secrets is only ever set by the secret-in-state breakage.
	Secrets map[string]string `json:"secrets,omitempty"`
}

func (w *world) Info(context.Context) (*sdk.InfoResponse, error) {
	return &sdk.InfoResponse{Name: "world", Version: "0.0.1", ConfigSchema: sdk.Schema{Attributes: []sdk.Attribute{
		{Name: "dir", Type: sdk.TypeString, Required: true, Description: "the directory the replicas live in"},
		{Name: "step", Type: sdk.TypeString, Default: "20ms", Description: "how long creating one replica takes"},
		{Name: "broken", Type: sdk.TypeString, Description: "the promise to break"},
	}}}, nil
}

// config is the world's configuration, checked the same way by Configure
// and ValidateConfig.
type config struct {
	Dir    string `json:"dir"`
	Step   string `json:"step"`
	Broken string `json:"broken"`
	step   time.Duration
}

func parseConfig(decode func(any) error) (*config, error) {
	var cfg config
	if err := decode(&cfg); err != nil {
		return nil, err
	}
	step, err := time.ParseDuration(cfg.Step)
	if err != nil {
		return nil, sdk.InvalidConfig("step", "not a duration: %q", cfg.Step)
	}
	cfg.step = step
	if cfg.Broken != "" && !slices.Contains(breakages, cfg.Broken) {
		return nil, sdk.InvalidConfig("broken", "unknown breakage %q", cfg.Broken)
	}
	if st, err := os.Stat(cfg.Dir); err != nil || !st.IsDir() {
		return nil, sdk.InvalidConfig("dir", "not a directory: %q", cfg.Dir)
	}
	return &cfg, nil
}

func (w *world) Configure(_ context.Context, req *sdk.ConfigureRequest) (*sdk.ConfigureResponse, error) {
	cfg, err := parseConfig(req.Decode)
	if err != nil {
		return nil, err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.dir, w.step, w.broken = cfg.Dir, cfg.step, cfg.Broken
	w.store = files{dir: cfg.Dir}
	if cfg.Broken == "memory-state" {
		w.store = inMemory
	}
	return &sdk.ConfigureResponse{}, nil
}

// ValidateConfig checks a configuration as Configure does, on a process
// that need not be configured; the validate-needs-configure breakage
// refuses to unless it is.
func (w *world) ValidateConfig(_ context.Context, req *sdk.ValidateConfigRequest) (*sdk.ValidateConfigResponse, error) {
	cfg, err := parseConfig(req.Decode)
	if err != nil {
		return nil, err
	}
	if err := w.needsConfigure(cfg.Broken); err != nil {
		return nil, err
	}
	return &sdk.ValidateConfigResponse{}, nil
}

// needsConfigure is the validate-needs-configure breakage: offline checks
// that only work once the process has been configured.
func (w *world) needsConfigure(broken string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if broken == "validate-needs-configure" && w.store == nil {
		return errors.New("validate: the world is not configured")
	}
	return nil
}

func (w *world) is(breakage string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.broken == breakage
}

// key is the deployment's folder in the world.
func (w *world) key(ref core.DeploymentRef) string {
	if w.is("global-names") {
		return "shared"
	}
	sum := sha256.Sum256([]byte(ref.Tenant + "\x00" + ref.Environment + "\x00" + ref.Name))
	return hex.EncodeToString(sum[:12])
}

func (w *world) Validate(_ context.Context, req *sdk.ValidateRequest) (*sdk.ValidateResponse, error) {
	if req.Config != nil {
		cfg, err := parseConfig(func(v any) error { return sdk.DecodeConfig(req.Config, v) })
		if err != nil {
			return nil, err
		}
		if err := w.needsConfigure(cfg.Broken); err != nil {
			return nil, err
		}
	}
	return &sdk.ValidateResponse{}, nil
}

func (w *world) Plan(_ context.Context, req *sdk.PlanRequest) (*sdk.PlanResponse, error) {
	st, err := decode(req.PriorState)
	if err != nil {
		return nil, err
	}
	return &sdk.PlanResponse{Services: sdk.DiffServices(st.Spec.Services, req.Deployment.Services)}, nil
}

func (w *world) Apply(ctx context.Context, req *sdk.ApplyRequest, progress sdk.ProgressFunc) (*sdk.ApplyResponse, error) {
	prior, err := decode(req.PriorState)
	if err != nil {
		return nil, err
	}
	key := w.key(req.Deployment.Ref())
	next := state{Spec: req.Deployment, Replicas: map[string][]string{}}
	if w.is("secret-in-state") {
		next.Secrets = req.Secrets
	}
	response := func() *sdk.ApplyResponse { return &sdk.ApplyResponse{State: encode(next)} }
	existing, err := w.store.list(key)
	if err != nil {
		return nil, err
	}
	for _, svc := range req.Deployment.Services {
		env, config := workload(svc, req.Secrets)
		have := map[string]replica{}
		for _, r := range existing {
			if r.Service == svc.Name && w.owns(prior, r) {
				have[r.Name] = r
			}
		}
		names := w.replicaNames(svc, prior)
		for _, name := range names {
			next.Replicas[svc.Name] = append(next.Replicas[svc.Name], name)
			if r, ok := have[name]; ok && r.Config == config {
				continue
			}
			if err := w.wait(ctx); err != nil {
				if w.is("swallow-cancel") {
					time.Sleep(500 * time.Millisecond) // waits out the replica it was creating
					return response(), nil
				}
				return response(), fmt.Errorf("create replica %s: %w", name, err)
			}
			if w.is("secret-on-stderr") {
				hclog.Default().Info("starting replica", "replica", name, "env", env)
			}
			r := replica{Deployment: req.Deployment.Ref().String(), Service: svc.Name, Name: name, ID: name + "-" + rand.Text()[:6],
				Config: config, StartedAt: time.Now(), Env: env}
			if err := w.store.put(key, r); err != nil {
				return response(), err
			}
			progress(core.Event{Time: time.Now(), Level: core.EventInfo, Service: svc.Name, Replica: name, Message: "created replica " + name})
		}
		for name := range have {
			if !slices.Contains(names, name) {
				if err := w.store.remove(key, name); err != nil {
					return response(), err
				}
			}
		}
	}
	for _, r := range existing {
		if req.Deployment.Service(r.Service) == nil {
			if err := w.store.remove(key, r.Name); err != nil {
				return response(), err
			}
		}
	}
	progress(core.Event{Time: time.Now(), Level: core.EventInfo, Message: "applied"})
	return response(), nil
}

// replicaNames names the replicas of svc: by ordinal, so that a retried
// apply finds what an interrupted one created, except for the
// duplicate-on-retry breakage, which names them at random and remembers
// them only in the state.
func (w *world) replicaNames(svc core.ServiceSpec, prior state) []string {
	if !w.is("duplicate-on-retry") {
		names := make([]string, svc.Replicas)
		for i := range names {
			names[i] = fmt.Sprintf("%s-%d", svc.Name, i+1)
		}
		return names
	}
	names := slices.Clone(prior.Replicas[svc.Name])
	for len(names) < svc.Replicas {
		names = append(names, svc.Name+"-"+rand.Text()[:8])
	}
	return names[:svc.Replicas]
}

// owns says whether apply should consider r its own: always, but for the
// duplicate-on-retry breakage, which knows only the replicas in its state.
func (w *world) owns(prior state, r replica) bool {
	return !w.is("duplicate-on-retry") || slices.Contains(prior.Replicas[r.Service], r.Name)
}

// wait is the time creating a replica takes; ignore-cancel waits it out
// however long, and longer than the kit's grace.
func (w *world) wait(ctx context.Context) error {
	w.mu.Lock()
	step, broken := w.step, w.broken
	w.mu.Unlock()
	if broken == "ignore-cancel" {
		time.Sleep(max(step, 3*time.Second))
		return nil
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(step):
		return nil
	}
}

// workload returns the environment the replicas of svc run with, secrets
// resolved, and a hash of it and the rest of the spec that says whether a
// replica runs the current configuration.
func workload(svc core.ServiceSpec, secrets sdk.SecretValues) (map[string]string, string) {
	env := map[string]string{}
	for k, v := range svc.Env {
		env[k] = v
	}
	for _, ref := range svc.SecretEnv {
		env[ref.Env] = secrets[ref.Ref]
	}
	spec := svc
	spec.Replicas = 0
	b, _ := json.Marshal(struct {
		Spec core.ServiceSpec
		Env  map[string]string
	}{spec, env})
	sum := sha256.Sum256(b)
	return env, hex.EncodeToString(sum[:])
}

func (w *world) Destroy(_ context.Context, req *sdk.DestroyRequest) (*sdk.DestroyResponse, error) {
	key := w.key(req.Deployment)
	reps, err := w.store.list(key)
	if err != nil {
		return nil, err
	}
	for _, r := range reps {
		if err := w.store.remove(key, r.Name); err != nil {
			return nil, err
		}
	}
	return &sdk.DestroyResponse{}, nil
}

func (w *world) Status(_ context.Context, req *sdk.StatusRequest) (*sdk.StatusResponse, error) {
	st, err := decode(req.State)
	if err != nil {
		return nil, err
	}
	reps, err := w.store.list(w.key(req.Deployment))
	if err != nil {
		return nil, err
	}
	byService := map[string][]replica{}
	for _, r := range reps {
		byService[r.Service] = append(byService[r.Service], r)
	}
	desired := map[string]int{}
	var names []string
	for _, svc := range st.Spec.Services {
		desired[svc.Name] = svc.Replicas
		names = append(names, svc.Name)
	}
	for name := range byService {
		if !slices.Contains(names, name) {
			names = append(names, name) // left behind
		}
	}
	out := core.DeploymentStatus{Deployment: req.Deployment}
	var parts []core.Health
	for _, name := range names {
		ss := core.ServiceStatus{Name: name, Desired: desired[name]}
		rs := byService[name]
		sort.Slice(rs, func(i, j int) bool { return rs[i].Name < rs[j].Name })
		stopped := len(rs) > 0
		for _, r := range rs {
			h := core.HealthReady
			if r.Stopped {
				h = core.HealthDown
			} else {
				ss.Ready++
				stopped = false
			}
			ss.Replicas = append(ss.Replicas, core.ReplicaStatus{ID: r.ID, Health: h, StartedAt: r.StartedAt, Restarts: r.Restarts})
		}
		switch {
		case len(rs) == 0:
			ss.Health = core.HealthMissing
		case stopped:
			ss.Health = core.HealthDown
		case ss.Ready == ss.Desired && len(rs) == ss.Desired:
			ss.Health = core.HealthReady
		default:
			ss.Health = core.HealthDegraded
			ss.Reasons = []string{fmt.Sprintf("%d replicas, %d ready, %d desired", len(rs), ss.Ready, ss.Desired)}
		}
		parts = append(parts, ss.Health)
		out.Services = append(out.Services, ss)
	}
	out.Health = core.Aggregate(parts...)
	return &sdk.StatusResponse{Status: out}, nil
}

// replicasOf returns the replicas of service (all when ""), failing with
// NotFound for a service the deployment does not have.
func (w *world) replicasOf(ref core.DeploymentRef, blob []byte, service string) (state, []replica, error) {
	st, err := decode(blob)
	if err != nil {
		return st, nil, err
	}
	if service != "" && st.Spec.Service(service) == nil {
		return st, nil, sdk.NotFound("service %q is not in deployment %s", service, ref)
	}
	reps, err := w.store.list(w.key(ref))
	if err != nil {
		return st, nil, err
	}
	var out []replica
	for _, r := range reps {
		if service == "" || r.Service == service {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return st, out, nil
}

func (w *world) update(ref core.DeploymentRef, blob []byte, service string, change func(*replica)) error {
	_, reps, err := w.replicasOf(ref, blob, service)
	if err != nil {
		return err
	}
	for _, r := range reps {
		change(&r)
		if err := w.store.put(w.key(ref), r); err != nil {
			return err
		}
	}
	return nil
}

func (w *world) Restart(_ context.Context, req *sdk.RestartRequest) (*sdk.RestartResponse, error) {
	err := w.update(req.Deployment, req.State, req.Service, func(r *replica) { r.Restarts++; r.StartedAt = time.Now() })
	if err != nil {
		return nil, err
	}
	return &sdk.RestartResponse{}, nil
}

func (w *world) Stop(_ context.Context, req *sdk.StopRequest) (*sdk.StopResponse, error) {
	if err := w.update(req.Deployment, req.State, req.Service, func(r *replica) { r.Stopped = true }); err != nil {
		return nil, err
	}
	return &sdk.StopResponse{}, nil
}

func (w *world) Start(_ context.Context, req *sdk.StartRequest) (*sdk.StartResponse, error) {
	err := w.update(req.Deployment, req.State, req.Service, func(r *replica) {
		if r.Stopped {
			r.Stopped, r.StartedAt = false, time.Now()
		}
	})
	if err != nil {
		return nil, err
	}
	return &sdk.StartResponse{}, nil
}

func (w *world) Scale(ctx context.Context, req *sdk.ScaleRequest) (*sdk.ScaleResponse, error) {
	st, err := decode(req.State)
	if err != nil {
		return nil, err
	}
	svc := st.Spec.Service(req.Service)
	if svc == nil {
		return nil, sdk.NotFound("service %q is not in deployment %s", req.Service, req.Deployment)
	}
	svc.Replicas = req.Replicas
	// Apply the changed spec again, with the secrets the replicas already
	// run with.
	_, reps, err := w.replicasOf(req.Deployment, req.State, req.Service)
	if err != nil {
		return nil, err
	}
	secrets := sdk.SecretValues{}
	if len(reps) > 0 {
		for _, ref := range svc.SecretEnv {
			secrets[ref.Ref] = reps[0].Env[ref.Env]
		}
	}
	resp, err := w.Apply(ctx, &sdk.ApplyRequest{Deployment: st.Spec, PriorState: req.State, Secrets: secrets}, func(core.Event) {})
	if err != nil {
		return nil, err
	}
	return &sdk.ScaleResponse{State: resp.State}, nil
}

// tick is how often a replica writes a log line.
const tick = 100 * time.Millisecond

// logLines returns the log lines replica r has written from its start up to
// until: "started", then "tick N" every 100ms.
func logLines(r replica, since, until time.Time) []sdk.LogLine {
	var out []sdk.LogLine
	n := int(until.Sub(r.StartedAt) / tick)
	first := max(0, n-1000) // nobody reads further back in the kit
	if !since.IsZero() {
		first = max(first, int(since.Sub(r.StartedAt)/tick))
	}
	for i := first; i <= n; i++ {
		msg := "started"
		if i > 0 {
			msg = "tick " + strconv.Itoa(i)
		}
		out = append(out, sdk.LogLine{Time: r.StartedAt.Add(time.Duration(i) * tick), Service: r.Service, Replica: r.ID, Stream: sdk.Stdout, Message: msg})
	}
	return out
}

func (w *world) Logs(ctx context.Context, req *sdk.LogsRequest, send sdk.LogSender) error {
	_, reps, err := w.replicasOf(req.Deployment, req.State, req.Service)
	if err != nil {
		return err
	}
	now := time.Now()
	var lines []sdk.LogLine
	for _, r := range reps {
		if req.Replica != "" && r.ID != req.Replica {
			continue
		}
		l := logLines(r, req.Since, now)
		if req.Tail > 0 && len(l) > req.Tail {
			l = l[len(l)-req.Tail:]
		}
		lines = append(lines, l...)
	}
	sort.SliceStable(lines, func(i, j int) bool { return lines[i].Time.Before(lines[j].Time) })
	for _, l := range lines {
		if err := send(l); err != nil {
			return err
		}
	}
	for last := now; req.Follow; {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case now := <-time.After(tick):
			for _, r := range reps {
				for _, l := range logLines(r, last, now) {
					if l.Time.After(last) {
						if err := send(l); err != nil {
							return err
						}
					}
				}
			}
			last = now
		}
	}
	return nil
}

// Exec understands two commands: "cat" copies stdin to stdout, "exit N"
// exits with N.
func (w *world) Exec(_ context.Context, req *sdk.ExecRequest, streams sdk.ExecStreams) (*sdk.ExecResponse, error) {
	_, reps, err := w.replicasOf(req.Deployment, req.State, req.Service)
	if err != nil {
		return nil, err
	}
	if len(reps) == 0 {
		return nil, sdk.NotFound("service %q has no replica", req.Service)
	}
	switch {
	case len(req.Command) == 1 && req.Command[0] == "cat":
		if streams.Stdin != nil {
			if _, err := io.Copy(streams.Stdout, streams.Stdin); err != nil {
				return nil, fmt.Errorf("copy stdin: %w", err)
			}
		}
		return &sdk.ExecResponse{}, nil
	case len(req.Command) == 2 && req.Command[0] == "exit":
		code, err := strconv.Atoi(req.Command[1])
		if err != nil {
			return nil, fmt.Errorf("parse exit code: %w", err)
		}
		return &sdk.ExecResponse{ExitCode: code}, nil
	}
	fmt.Fprintf(streams.Stderr, "world: unknown command %q\n", req.Command)
	return &sdk.ExecResponse{ExitCode: 127}, nil
}

func (w *world) Metrics(_ context.Context, req *sdk.MetricsRequest) (*sdk.MetricsResponse, error) {
	_, reps, err := w.replicasOf(req.Deployment, req.State, req.Service)
	if err != nil {
		return nil, err
	}
	var out sdk.MetricsResponse
	for _, r := range reps {
		out.Points = append(out.Points, core.MetricPoint{Service: r.Service, Replica: r.ID, Name: "cpu", Unit: "cores", Value: 0.01, Time: time.Now()})
	}
	return &out, nil
}

func (w *world) NodeHealth(context.Context, *sdk.NodeHealthRequest) (*sdk.NodeHealthResponse, error) {
	w.mu.Lock()
	dir := w.dir
	w.mu.Unlock()
	n := core.NodeHealth{Name: "world", Health: core.HealthReady, Reachable: true}
	if _, err := os.Stat(dir); err != nil {
		n.Health, n.Reachable, n.Reasons = core.HealthDown, false, []string{err.Error()}
	}
	return &sdk.NodeHealthResponse{Nodes: []core.NodeHealth{n}}, nil
}

func decode(b []byte) (state, error) {
	var st state
	if len(b) == 0 {
		return st, nil
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return st, fmt.Errorf("decode state: %w", err)
	}
	return st, nil
}

func encode(st state) []byte {
	b, err := json.Marshal(st)
	if err != nil {
		panic(err) // a struct of strings and maps always encodes
	}
	return b
}
