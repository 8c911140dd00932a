// Package faulty is a test plugin: the memory backend with faults injected
// on purpose, so that the host's tests can see how it copes with a plugin
// that fails, hangs or crashes. It is served by cmd/swarm-backend-faulty,
// which tests build; it is not an example to copy. Unlike a real backend
// it keeps something between calls: how often each fault has fired.
package faulty

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"

	memory "github.com/alphaswarm/controller/examples/backend-memory"
	"github.com/alphaswarm/controller/sdk"
)

// Backend is the memory backend behind fault injection: every operation
// first checks whether a configured fault is due.
type Backend struct {
	memory *memory.Backend

	mu     sync.Mutex
	faults []fault
	fired  []int
}

// The wrapper declares every capability the memory backend does, and
// checks its configuration offline as it does.
var _ interface {
	sdk.Backend
	sdk.ConfigValidator
	sdk.Restarter
	sdk.StartStopper
	sdk.Scaler
	sdk.LogStreamer
	sdk.Executor
	sdk.MetricsReader
	sdk.NodeHealthReporter
} = (*Backend)(nil)

// New returns an unconfigured faulty backend.
func New() *Backend { return &Backend{memory: memory.New()} }

// fault is one fault block: make Op fail Count times (0: always).
type fault struct {
	Op    string `json:"op"`
	Kind  string `json:"kind"`
	Count int    `json:"count"`
}

var faultBlock = sdk.Block{
	Name: "fault", Nesting: sdk.NestingList, Description: "Make an operation fail, to test how callers cope.",
	Schema: sdk.Schema{Attributes: []sdk.Attribute{
		{Name: "op", Type: sdk.TypeString, Required: true, TenantSettable: true, Description: "Operation: apply, destroy, status, plan, restart, start, stop, scale, logs, exec, metrics, node_health."},
		{Name: "kind", Type: sdk.TypeString, Default: "error", TenantSettable: true, Description: "error, unavailable (retriable), crash (exits the plugin) or hang (until cancelled)."},
		{Name: "count", Type: sdk.TypeNumber, Default: 0, TenantSettable: true, Description: "Fail this many times, then succeed; 0 fails every time."},
	}},
}

// Info is the memory backend's, named faulty, with the fault block.
func (b *Backend) Info(ctx context.Context) (*sdk.InfoResponse, error) {
	info, err := b.memory.Info(ctx)
	if err != nil {
		return nil, err
	}
	info.Name = "faulty"
	info.Description = "The memory simulator with faults injected on purpose, for tests."
	info.ConfigSchema.Blocks = append(info.ConfigSchema.Blocks, faultBlock)
	return info, nil
}

// Configure takes the fault blocks and hands the rest to the memory
// backend. It resets the count of faults fired.
func (b *Backend) Configure(ctx context.Context, req *sdk.ConfigureRequest) (*sdk.ConfigureResponse, error) {
	faults, rest, err := splitFaults(req.Config, nil)
	if err != nil {
		return nil, err
	}
	resp, err := b.memory.Configure(ctx, &sdk.ConfigureRequest{Instance: req.Instance, Config: rest})
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.faults, b.fired = faults, make([]int, len(faults))
	return resp, nil
}

// ValidateConfig checks the fault blocks offline, as Configure does, and
// hands the rest to the memory backend's check.
func (b *Backend) ValidateConfig(ctx context.Context, req *sdk.ValidateConfigRequest) (*sdk.ValidateConfigResponse, error) {
	_, rest, err := splitFaults(req.Config, req.Unknown)
	if err != nil {
		return nil, err
	}
	return b.memory.ValidateConfig(ctx, &sdk.ValidateConfigRequest{Instance: req.Instance, Config: rest, Unknown: req.Unknown})
}

// splitFaults takes the fault blocks out of a configuration and checks
// them, skipping the values that are unknown; rest is the configuration
// without them.
func splitFaults(config json.RawMessage, unknown sdk.Unknown) (faults []fault, rest json.RawMessage, err error) {
	attrs := map[string]json.RawMessage{}
	if len(config) > 0 {
		if err := json.Unmarshal(config, &attrs); err != nil {
			return nil, nil, sdk.InvalidConfig("", "decode config: %v", err)
		}
	}
	if raw, ok := attrs["fault"]; ok && !unknown.Has("fault") {
		if err := json.Unmarshal(raw, &faults); err != nil {
			return nil, nil, sdk.InvalidConfig("fault", "decode fault blocks: %v", err)
		}
	}
	delete(attrs, "fault")
	for i, f := range faults {
		switch kind := fmt.Sprintf("fault[%d].kind", i); {
		case f.Kind == "error", f.Kind == "unavailable", f.Kind == "crash", f.Kind == "hang", unknown.Has(kind):
		default:
			return nil, nil, sdk.InvalidConfig(kind, "%q must be error, unavailable, crash or hang", f.Kind)
		}
		if count := fmt.Sprintf("fault[%d].count", i); f.Count < 0 && !unknown.Has(count) {
			return nil, nil, sdk.InvalidConfig(count, "must not be negative")
		}
	}
	if rest, err = json.Marshal(attrs); err != nil {
		return nil, nil, fmt.Errorf("encode config: %w", err)
	}
	return faults, rest, nil
}

// trigger fails op if a fault for it is due.
func (b *Backend) trigger(ctx context.Context, op string) error {
	b.mu.Lock()
	kind := ""
	for i, f := range b.faults {
		if f.Op == op && (f.Count == 0 || b.fired[i] < f.Count) {
			b.fired[i]++
			kind = f.Kind
			break
		}
	}
	b.mu.Unlock()
	switch kind {
	case "":
		return nil
	case "unavailable":
		return sdk.Unavailable(fmt.Errorf("simulated outage during %s", op))
	case "crash":
		fmt.Fprintf(os.Stderr, "simulated crash during %s\n", op)
		os.Exit(3)
	case "hang":
		<-ctx.Done()
		return ctx.Err()
	}
	return errors.New("simulated failure during " + op)
}

// call runs op on the memory backend unless a fault is due.
func call[Req, Resp any](ctx context.Context, b *Backend, op string, req Req, next func(context.Context, Req) (Resp, error)) (Resp, error) {
	if err := b.trigger(ctx, op); err != nil {
		var zero Resp
		return zero, err
	}
	return next(ctx, req)
}

func (b *Backend) Validate(ctx context.Context, req *sdk.ValidateRequest) (*sdk.ValidateResponse, error) {
	return b.memory.Validate(ctx, req) // offline: no fault applies
}

func (b *Backend) Plan(ctx context.Context, req *sdk.PlanRequest) (*sdk.PlanResponse, error) {
	return call(ctx, b, "plan", req, b.memory.Plan)
}

func (b *Backend) Apply(ctx context.Context, req *sdk.ApplyRequest, progress sdk.ProgressFunc) (*sdk.ApplyResponse, error) {
	return call(ctx, b, "apply", req, func(ctx context.Context, req *sdk.ApplyRequest) (*sdk.ApplyResponse, error) {
		return b.memory.Apply(ctx, req, progress)
	})
}

func (b *Backend) Destroy(ctx context.Context, req *sdk.DestroyRequest) (*sdk.DestroyResponse, error) {
	return call(ctx, b, "destroy", req, b.memory.Destroy)
}

func (b *Backend) Status(ctx context.Context, req *sdk.StatusRequest) (*sdk.StatusResponse, error) {
	return call(ctx, b, "status", req, b.memory.Status)
}

func (b *Backend) Restart(ctx context.Context, req *sdk.RestartRequest) (*sdk.RestartResponse, error) {
	return call(ctx, b, "restart", req, b.memory.Restart)
}

func (b *Backend) Start(ctx context.Context, req *sdk.StartRequest) (*sdk.StartResponse, error) {
	return call(ctx, b, "start", req, b.memory.Start)
}

func (b *Backend) Stop(ctx context.Context, req *sdk.StopRequest) (*sdk.StopResponse, error) {
	return call(ctx, b, "stop", req, b.memory.Stop)
}

func (b *Backend) Scale(ctx context.Context, req *sdk.ScaleRequest) (*sdk.ScaleResponse, error) {
	return call(ctx, b, "scale", req, b.memory.Scale)
}

func (b *Backend) Logs(ctx context.Context, req *sdk.LogsRequest, send sdk.LogSender) error {
	if err := b.trigger(ctx, "logs"); err != nil {
		return err
	}
	return b.memory.Logs(ctx, req, send)
}

func (b *Backend) Exec(ctx context.Context, req *sdk.ExecRequest, streams sdk.ExecStreams) (*sdk.ExecResponse, error) {
	return call(ctx, b, "exec", req, func(ctx context.Context, req *sdk.ExecRequest) (*sdk.ExecResponse, error) {
		return b.memory.Exec(ctx, req, streams)
	})
}

func (b *Backend) Metrics(ctx context.Context, req *sdk.MetricsRequest) (*sdk.MetricsResponse, error) {
	return call(ctx, b, "metrics", req, b.memory.Metrics)
}

func (b *Backend) NodeHealth(ctx context.Context, req *sdk.NodeHealthRequest) (*sdk.NodeHealthResponse, error) {
	return call(ctx, b, "node_health", req, b.memory.NodeHealth)
}
