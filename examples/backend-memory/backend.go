package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/sdk"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0"

// Backend is the in-memory simulator. Its only fields are its configuration.
type Backend struct {
	cfg    config
	faults *faults
}

// Interface guards: the simulator declares every capability.
var (
	_ sdk.Backend            = (*Backend)(nil)
	_ sdk.Restarter          = (*Backend)(nil)
	_ sdk.StartStopper       = (*Backend)(nil)
	_ sdk.Scaler             = (*Backend)(nil)
	_ sdk.LogStreamer        = (*Backend)(nil)
	_ sdk.Executor           = (*Backend)(nil)
	_ sdk.MetricsReader      = (*Backend)(nil)
	_ sdk.NodeHealthReporter = (*Backend)(nil)
)

// New returns an unconfigured simulator.
func New() *Backend { return &Backend{faults: &faults{}} }

// config is the body of a backend "memory" "<name>" block.
type config struct {
	Latency     string        `json:"latency"`
	LogInterval string        `json:"log_interval"`
	NodeName    string        `json:"node_name"`
	Faults      []faultConfig `json:"fault"`

	latency, logInterval time.Duration
}

var schema = sdk.Schema{
	Attributes: []sdk.Attribute{
		{Name: "latency", Type: sdk.TypeString, Default: "0s", TenantSettable: true, Description: "Delay added to every operation, as a Go duration."},
		{Name: "log_interval", Type: sdk.TypeString, Default: "200ms", TenantSettable: true, Description: "How often each simulated replica logs a line."},
		{Name: "node_name", Type: sdk.TypeString, Default: "memory", TenantSettable: true, Description: "Name of the one simulated node."},
	},
	Blocks: []sdk.Block{{
		Name: "fault", Nesting: sdk.NestingList, Description: "Make an operation fail, to test how callers cope.",
		Schema: sdk.Schema{Attributes: []sdk.Attribute{
			{Name: "op", Type: sdk.TypeString, Required: true, TenantSettable: true, Description: "Operation: apply, destroy, status, restart, ..."},
			{Name: "kind", Type: sdk.TypeString, Default: "error", TenantSettable: true, Description: "error, unavailable, crash (exit the plugin) or hang."},
			{Name: "count", Type: sdk.TypeNumber, Default: 0, TenantSettable: true, Description: "Fail this many times, then succeed; 0 fails every time."},
		}},
	}},
}

func (b *Backend) Info(context.Context) (*sdk.InfoResponse, error) {
	return &sdk.InfoResponse{
		Name: "memory", Version: version, ConfigSchema: schema,
		Description: "In-memory simulator of a container platform, for tests and examples. Runs nothing.",
	}, nil
}

func (b *Backend) Configure(_ context.Context, req *sdk.ConfigureRequest) (*sdk.ConfigureResponse, error) {
	c, err := parseConfig(req.Config, nil)
	if err != nil {
		return nil, err
	}
	if err := b.faults.set(c.Faults); err != nil {
		return nil, err
	}
	b.cfg = c
	return &sdk.ConfigureResponse{}, nil
}

// enter applies the configured latency and faults to one operation.
func (b *Backend) enter(ctx context.Context, op string) error {
	if b.cfg.latency > 0 {
		select {
		case <-time.After(b.cfg.latency):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return b.faults.trigger(ctx, op)
}

func (b *Backend) Validate(context.Context, *sdk.ValidateRequest) (*sdk.ValidateResponse, error) {
	return &sdk.ValidateResponse{}, nil // the simulator runs anything that core.Validate accepts
}

func (b *Backend) Plan(ctx context.Context, req *sdk.PlanRequest) (*sdk.PlanResponse, error) {
	if err := b.enter(ctx, "plan"); err != nil {
		return nil, err
	}
	w, err := decodeWorld(req.PriorState)
	if err != nil {
		return nil, err
	}
	return &sdk.PlanResponse{Services: sdk.DiffServices(w.specs(), req.Deployment.Services)}, nil
}

func (b *Backend) Apply(ctx context.Context, req *sdk.ApplyRequest, progress sdk.ProgressFunc) (*sdk.ApplyResponse, error) {
	if err := b.enter(ctx, "apply"); err != nil {
		return nil, err
	}
	for _, s := range req.Deployment.Services {
		for _, ref := range s.SecretEnv {
			if _, ok := req.Secrets[ref.Ref]; !ok {
				return nil, fmt.Errorf("service %q: secret %q for %s was not resolved", s.Name, ref.Ref, ref.Env)
			}
		}
	}
	w, err := decodeWorld(req.PriorState)
	if err != nil {
		return nil, err
	}
	w.Deployment = req.Deployment.Ref()
	report := func(svc, replica, format string, args ...any) {
		progress(core.Event{Time: time.Now(), Level: core.EventInfo, Service: svc, Replica: replica,
			Message: fmt.Sprintf(format, args...)})
	}
	if err := w.converge(ctx, &req.Deployment, report); err != nil {
		return &sdk.ApplyResponse{State: w.encode()}, err
	}
	report("", "", "deployment %s converged: %d services", w.Deployment, len(w.Services))
	return &sdk.ApplyResponse{State: w.encode()}, nil
}

func (b *Backend) Destroy(ctx context.Context, req *sdk.DestroyRequest) (*sdk.DestroyResponse, error) {
	if err := b.enter(ctx, "destroy"); err != nil {
		return nil, err
	}
	if _, err := decodeWorld(req.State); err != nil {
		return nil, err
	}
	return &sdk.DestroyResponse{}, nil // nothing outlives the state blob
}

func (b *Backend) Status(ctx context.Context, req *sdk.StatusRequest) (*sdk.StatusResponse, error) {
	if err := b.enter(ctx, "status"); err != nil {
		return nil, err
	}
	w, err := decodeWorld(req.State)
	if err != nil {
		return nil, err
	}
	return &sdk.StatusResponse{Status: w.status(req.Deployment)}, nil
}

// decodeWorld reads a state blob; nil is an empty world.
func decodeWorld(state []byte) (*world, error) {
	w := &world{}
	if len(state) == 0 {
		return w, nil
	}
	if err := json.Unmarshal(state, w); err != nil {
		return nil, fmt.Errorf("decode state: %w", err)
	}
	return w, nil
}

func (w *world) encode() []byte {
	b, _ := json.Marshal(w)
	return b
}
