package memory

import (
	"context"
	"runtime"
	"time"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/sdk"
)

// mutate runs fn on each service the request names (all when name is empty)
// and returns the new state.
func (b *Backend) mutate(ctx context.Context, op string, state []byte, name string, fn func(*service)) ([]byte, error) {
	if err := b.enter(ctx); err != nil {
		return nil, err
	}
	w, err := decodeWorld(state)
	if err != nil {
		return nil, err
	}
	if name != "" && w.service(name) == nil {
		return nil, sdk.NotFound("service %q in deployment %s", name, w.Deployment)
	}
	for _, s := range w.Services {
		if name == "" || s.Spec.Name == name {
			fn(s)
		}
	}
	return w.encode()
}

func (b *Backend) Restart(ctx context.Context, req *sdk.RestartRequest) (*sdk.RestartResponse, error) {
	state, err := b.mutate(ctx, "restart", req.State, req.Service, func(s *service) {
		for i := range s.Replicas {
			s.Replicas[i].StartedAt = time.Now().UTC()
			s.Replicas[i].Restarts++
		}
	})
	if err != nil {
		return nil, err
	}
	return &sdk.RestartResponse{State: state}, nil
}

func (b *Backend) Stop(ctx context.Context, req *sdk.StopRequest) (*sdk.StopResponse, error) {
	state, err := b.mutate(ctx, "stop", req.State, req.Service, func(s *service) {
		if !s.IsDown {
			s.IsDown, s.Stopped, s.Replicas = true, len(s.Replicas), nil
		}
	})
	if err != nil {
		return nil, err
	}
	return &sdk.StopResponse{State: state}, nil
}

func (b *Backend) Start(ctx context.Context, req *sdk.StartRequest) (*sdk.StartResponse, error) {
	state, err := b.mutate(ctx, "start", req.State, req.Service, func(s *service) {
		if s.IsDown {
			s.IsDown = false
			s.scaleTo(s.Stopped, nil)
			s.Stopped = 0
		}
	})
	if err != nil {
		return nil, err
	}
	return &sdk.StartResponse{State: state}, nil
}

func (b *Backend) Scale(ctx context.Context, req *sdk.ScaleRequest) (*sdk.ScaleResponse, error) {
	if req.Service == "" {
		return nil, sdk.NotFound("service \"\" (scale needs a service name)")
	}
	state, err := b.mutate(ctx, "scale", req.State, req.Service, func(s *service) {
		s.Spec.Replicas = req.Replicas
		if s.IsDown {
			s.Stopped = req.Replicas
			return
		}
		s.scaleTo(req.Replicas, nil)
	})
	if err != nil {
		return nil, err
	}
	return &sdk.ScaleResponse{State: state}, nil
}

func (b *Backend) Metrics(ctx context.Context, req *sdk.MetricsRequest) (*sdk.MetricsResponse, error) {
	if err := b.enter(ctx); err != nil {
		return nil, err
	}
	w, err := decodeWorld(req.State)
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	var points []core.MetricPoint
	for _, s := range w.Services {
		if req.Service != "" && s.Spec.Name != req.Service {
			continue
		}
		for i, r := range s.Replicas {
			// Simulated figures: stable, distinct per replica, never above the limits.
			cpu := 0.01 * float64(i+1)
			mem := int64(16<<20) * int64(i+1)
			if lim := s.Spec.Resources.MemoryBytes; lim > 0 && mem > lim {
				mem = lim
			}
			points = append(points,
				core.MetricPoint{Service: s.Spec.Name, Replica: r.ID, Name: core.MetricCPUCores, Unit: "cores", Value: cpu, Time: now},
				core.MetricPoint{Service: s.Spec.Name, Replica: r.ID, Name: core.MetricMemoryBytes, Unit: "bytes", Value: float64(mem), Time: now})
		}
	}
	return &sdk.MetricsResponse{Points: points}, nil
}

func (b *Backend) NodeHealth(ctx context.Context, _ *sdk.NodeHealthRequest) (*sdk.NodeHealthResponse, error) {
	if err := b.enter(ctx); err != nil {
		return nil, err
	}
	return &sdk.NodeHealthResponse{Nodes: []core.NodeHealth{{
		Name: b.cfg.NodeName, Health: core.HealthReady, Reachable: true, Version: "memory " + version,
		CPUs: float64(runtime.NumCPU()), MemoryBytes: 8 << 30,
		Labels: map[string]string{"simulated": "true"},
	}}}, nil
}
