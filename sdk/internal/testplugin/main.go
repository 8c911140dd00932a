// Command testplugin is a minimal backend for the SDK's own tests: it
// implements only the required operations, so every optional capability must
// answer Unsupported; it gives a reason (sdk.UnsupportedReasoner) for exec
// alone. TESTPLUGIN_BROKEN=replace makes every apply replace all replicas, a
// conformance violation the kit must catch.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/sdk"
)

func main() { sdk.Serve(&minimal{broken: os.Getenv("TESTPLUGIN_BROKEN")}) }

type minimal struct{ broken string }

var _ sdk.UnsupportedReasoner = (*minimal)(nil)

// state is the whole deployment: its spec and a generation per apply.
type state struct {
	Spec       core.DeploymentSpec `json:"spec"`
	Generation int                 `json:"generation"`
}

func (m *minimal) Info(context.Context) (*sdk.InfoResponse, error) {
	return &sdk.InfoResponse{Name: "minimal", Version: "0.0.1", ConfigSchema: sdk.Schema{
		Attributes: []sdk.Attribute{{Name: "region", Type: sdk.TypeString, Required: true}},
	}}, nil
}

// ExecReason is the reason the plugin gives for not offering exec.
const ExecReason = "the minimal backend runs no process to exec into"

// UnsupportedReason says why exec is missing, and nothing of the others.
func (m *minimal) UnsupportedReason(c sdk.Capability) string {
	if c == sdk.CapExec {
		return ExecReason
	}
	return ""
}

func (m *minimal) Configure(_ context.Context, req *sdk.ConfigureRequest) (*sdk.ConfigureResponse, error) {
	var cfg struct {
		Region string `json:"region"`
	}
	if err := req.Decode(&cfg); err != nil {
		return nil, err
	}
	if cfg.Region == "" {
		return nil, sdk.InvalidConfig("region", "must not be empty")
	}
	return &sdk.ConfigureResponse{}, nil
}

func (m *minimal) Validate(context.Context, *sdk.ValidateRequest) (*sdk.ValidateResponse, error) {
	return &sdk.ValidateResponse{}, nil
}

func (m *minimal) Plan(_ context.Context, req *sdk.PlanRequest) (*sdk.PlanResponse, error) {
	st := decode(req.PriorState)
	return &sdk.PlanResponse{Services: sdk.DiffServices(st.Spec.Services, req.Deployment.Services)}, nil
}

func (m *minimal) Apply(_ context.Context, req *sdk.ApplyRequest, progress sdk.ProgressFunc) (*sdk.ApplyResponse, error) {
	st := decode(req.PriorState)
	if m.broken == "replace" || st.Generation == 0 {
		st.Generation++
	}
	st.Spec = req.Deployment
	progress(core.Event{Time: time.Now(), Level: core.EventInfo, Message: "applied"})
	b, _ := json.Marshal(st)
	return &sdk.ApplyResponse{State: b}, nil
}

func (m *minimal) Destroy(context.Context, *sdk.DestroyRequest) (*sdk.DestroyResponse, error) {
	return &sdk.DestroyResponse{}, nil
}

func (m *minimal) Status(_ context.Context, req *sdk.StatusRequest) (*sdk.StatusResponse, error) {
	st := decode(req.State)
	out := core.DeploymentStatus{Deployment: req.Deployment, Health: core.HealthMissing}
	var parts []core.Health
	for _, s := range st.Spec.Services {
		ss := core.ServiceStatus{Name: s.Name, Health: core.HealthReady, Desired: s.Replicas, Ready: s.Replicas}
		for i := range s.Replicas {
			ss.Replicas = append(ss.Replicas, core.ReplicaStatus{
				ID: fmt.Sprintf("%s-g%d-%d", s.Name, st.Generation, i+1), Health: core.HealthReady,
			})
		}
		parts = append(parts, ss.Health)
		out.Services = append(out.Services, ss)
	}
	out.Health = core.Aggregate(parts...)
	return &sdk.StatusResponse{Status: out}, nil
}

func decode(b []byte) state {
	var st state
	if len(b) > 0 {
		_ = json.Unmarshal(b, &st)
	}
	return st
}
