// Command swarm-backend-tally is a backend that only counts: every
// deployment lives in its state blob, so it needs no platform at all.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/sdk"
)

func main() { sdk.Serve(&tally{}) }

type tally struct{}

// state is the whole deployment: its spec, and how many times it was
// created, which names the replicas.
type state struct {
	Spec       core.DeploymentSpec `json:"spec"`
	Generation int                 `json:"generation"`
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
	b, _ := json.Marshal(st)
	return b
}

func (*tally) Info(context.Context) (*sdk.InfoResponse, error) {
	return &sdk.InfoResponse{Name: "tally", Version: "1.2.3", Description: "counts replicas",
		ConfigSchema: sdk.Schema{Attributes: []sdk.Attribute{
			{Name: "unit", Type: sdk.TypeString, Required: true, Description: "what is counted"},
		}}}, nil
}

func (*tally) Configure(_ context.Context, req *sdk.ConfigureRequest) (*sdk.ConfigureResponse, error) {
	var cfg struct {
		Unit string `json:"unit"`
	}
	if err := req.Decode(&cfg); err != nil {
		return nil, err
	}
	if cfg.Unit == "" {
		return nil, sdk.InvalidConfig("unit", "must not be empty")
	}
	return &sdk.ConfigureResponse{}, nil
}

func (*tally) Validate(context.Context, *sdk.ValidateRequest) (*sdk.ValidateResponse, error) {
	return &sdk.ValidateResponse{}, nil
}

func (*tally) Plan(_ context.Context, req *sdk.PlanRequest) (*sdk.PlanResponse, error) {
	st, err := decode(req.PriorState)
	if err != nil {
		return nil, err
	}
	return &sdk.PlanResponse{Services: sdk.DiffServices(st.Spec.Services, req.Deployment.Services)}, nil
}

func (*tally) Apply(ctx context.Context, req *sdk.ApplyRequest, progress sdk.ProgressFunc) (*sdk.ApplyResponse, error) {
	st, err := decode(req.PriorState)
	if err != nil {
		return nil, err
	}
	if st.Generation == 0 {
		st.Generation = 1
	}
	for _, svc := range req.Deployment.Services {
		select {
		case <-ctx.Done():
			return &sdk.ApplyResponse{State: encode(st)}, fmt.Errorf("count service %s: %w", svc.Name, ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
		progress(core.Event{Time: time.Now(), Level: core.EventInfo, Service: svc.Name,
			Message: fmt.Sprintf("counted %d replicas", svc.Replicas)})
	}
	st.Spec = req.Deployment
	return &sdk.ApplyResponse{State: encode(st)}, nil
}

func (*tally) Destroy(context.Context, *sdk.DestroyRequest) (*sdk.DestroyResponse, error) {
	return &sdk.DestroyResponse{}, nil
}

func (*tally) Status(_ context.Context, req *sdk.StatusRequest) (*sdk.StatusResponse, error) {
	st, err := decode(req.State)
	if err != nil {
		return nil, err
	}
	out := core.DeploymentStatus{Deployment: req.Deployment}
	var parts []core.Health
	for _, s := range st.Spec.Services {
		ss := core.ServiceStatus{Name: s.Name, Health: core.HealthReady, Desired: s.Replicas, Ready: s.Replicas}
		for i := range s.Replicas {
			ss.Replicas = append(ss.Replicas, core.ReplicaStatus{
				ID: fmt.Sprintf("%s-%d-%d", s.Name, st.Generation, i+1), Health: core.HealthReady})
		}
		parts = append(parts, ss.Health)
		out.Services = append(out.Services, ss)
	}
	out.Health = core.Aggregate(parts...)
	return &sdk.StatusResponse{Status: out}, nil
}

// Scale is tally's one optional capability.
func (*tally) Scale(_ context.Context, req *sdk.ScaleRequest) (*sdk.ScaleResponse, error) {
	st, err := decode(req.State)
	if err != nil {
		return nil, err
	}
	svc := st.Spec.Service(req.Service)
	if svc == nil {
		return nil, sdk.NotFound("service %q is not in deployment %s", req.Service, req.Deployment)
	}
	svc.Replicas = req.Replicas
	return &sdk.ScaleResponse{State: encode(st)}, nil
}
