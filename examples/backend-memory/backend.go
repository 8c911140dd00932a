// Package memory is the reference backend plugin of alphaswarm-controller,
// served by cmd/swarm-backend-memory. It SIMULATES a container platform in
// memory: nothing runs, no container is created, no port is opened. It
// implements every capability of protocol v1 so that the host, its tests
// and its benchmarks can exercise the whole plugin boundary without Docker
// or a cluster, and it is the example to copy when writing a real backend.
//
// The simulated world lives in the state blob that Apply returns, as the
// protocol asks of every backend: the plugin itself keeps nothing between
// calls but its configuration, so it can crash and restart without losing
// a deployment, and any instance can carry on from the blob another one
// returned.
package memory

import (
	"context"
	"fmt"
	"time"

	"github.com/alphaswarm/controller/sdk"
)

// version is set at build time with -ldflags
// "-X github.com/alphaswarm/controller/examples/backend-memory.version=...".
var version = "0.1.0"

// Backend is the in-memory simulator. Its only field is its configuration.
type Backend struct {
	cfg config
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
func New() *Backend { return &Backend{} }

// config is the body of a backend "memory" "<name>" block.
type config struct {
	Latency     string `json:"latency"`
	LogInterval string `json:"log_interval"`
	NodeName    string `json:"node_name"`

	latency, logInterval time.Duration
}

var schema = sdk.Schema{
	Attributes: []sdk.Attribute{
		{Name: "latency", Type: sdk.TypeString, Default: "0s", TenantSettable: true, Description: "Delay added to every operation, as a Go duration."},
		{Name: "log_interval", Type: sdk.TypeString, Default: "200ms", TenantSettable: true, Description: "How often each simulated replica logs a line."},
		{Name: "node_name", Type: sdk.TypeString, Default: "memory", TenantSettable: true, Description: "Name of the one simulated node."},
	},
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
	b.cfg = c
	return &sdk.ConfigureResponse{}, nil
}

// enter applies the configured latency to an operation.
func (b *Backend) enter(ctx context.Context) error {
	if b.cfg.latency <= 0 {
		return nil
	}
	select {
	case <-time.After(b.cfg.latency):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (b *Backend) Validate(context.Context, *sdk.ValidateRequest) (*sdk.ValidateResponse, error) {
	return &sdk.ValidateResponse{}, nil // the simulator runs anything that core.Validate accepts
}

func (b *Backend) Plan(ctx context.Context, req *sdk.PlanRequest) (*sdk.PlanResponse, error) {
	if err := b.enter(ctx); err != nil {
		return nil, err
	}
	w, err := decodeWorld(req.PriorState)
	if err != nil {
		return nil, err
	}
	return &sdk.PlanResponse{Services: sdk.DiffServices(w.specs(), req.Deployment.Services)}, nil
}

func (b *Backend) Apply(ctx context.Context, req *sdk.ApplyRequest, progress sdk.ProgressFunc) (*sdk.ApplyResponse, error) {
	if err := b.enter(ctx); err != nil {
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
	report := sdk.NewProgress(progress)
	err = w.converge(ctx, &req.Deployment, report)
	if err == nil {
		report.Infof("", "", "deployment %s converged: %d services", w.Deployment, len(w.Services))
	}
	blob, err := stateFormat.EncodeAfter(err, *w, w.Salt())
	return &sdk.ApplyResponse{State: blob}, err
}

func (b *Backend) Destroy(ctx context.Context, req *sdk.DestroyRequest) (*sdk.DestroyResponse, error) {
	if err := b.enter(ctx); err != nil {
		return nil, err
	}
	if _, err := decodeWorld(req.State); err != nil {
		return nil, err
	}
	return &sdk.DestroyResponse{}, nil // nothing outlives the state blob
}

func (b *Backend) Status(ctx context.Context, req *sdk.StatusRequest) (*sdk.StatusResponse, error) {
	if err := b.enter(ctx); err != nil {
		return nil, err
	}
	w, err := decodeWorld(req.State)
	if err != nil {
		return nil, err
	}
	return &sdk.StatusResponse{Status: w.status(req.Deployment)}, nil
}

// stateFormat is the state blob: the world as JSON, versioned. Blobs from
// before the version (version 0) hold the same JSON and read as they are.
var stateFormat = sdk.StateFormat[world]{Version: 1}

// decodeWorld reads a state blob; none is an empty world.
func decodeWorld(blob []byte) (*world, error) {
	s, err := stateFormat.Decode(blob)
	if err != nil {
		return nil, err
	}
	return &s.Value, nil
}

func (w *world) encode() ([]byte, error) { return stateFormat.Encode(*w, w.Salt()) }
