package sdk_test

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/sdk"
	"github.com/alphaswarm/controller/sdk/pluginhost"
)

// greeter is the smallest useful backend: its "platform" is the state blob.
type greeter struct{}

func (greeter) Info(context.Context) (*sdk.InfoResponse, error) {
	return &sdk.InfoResponse{Name: "greeter", Version: "1.0.0", ConfigSchema: sdk.Schema{
		Attributes: []sdk.Attribute{{Name: "greeting", Type: sdk.TypeString, Default: "hello"}},
	}}, nil
}

func (greeter) Configure(context.Context, *sdk.ConfigureRequest) (*sdk.ConfigureResponse, error) {
	return &sdk.ConfigureResponse{}, nil
}

func (greeter) Validate(context.Context, *sdk.ValidateRequest) (*sdk.ValidateResponse, error) {
	return &sdk.ValidateResponse{}, nil
}

func (greeter) Plan(_ context.Context, req *sdk.PlanRequest) (*sdk.PlanResponse, error) {
	var prior []core.ServiceSpec
	_ = json.Unmarshal(req.PriorState, &prior)
	return &sdk.PlanResponse{Services: sdk.DiffServices(prior, req.Deployment.Services)}, nil
}

func (greeter) Apply(_ context.Context, req *sdk.ApplyRequest, progress sdk.ProgressFunc) (*sdk.ApplyResponse, error) {
	for _, s := range req.Deployment.Services {
		progress(core.Event{Level: core.EventInfo, Service: s.Name, Message: "greeted " + s.Name})
	}
	state, err := json.Marshal(req.Deployment.Services)
	return &sdk.ApplyResponse{State: state}, err
}

func (greeter) Destroy(context.Context, *sdk.DestroyRequest) (*sdk.DestroyResponse, error) {
	return &sdk.DestroyResponse{}, nil
}

func (greeter) Status(_ context.Context, req *sdk.StatusRequest) (*sdk.StatusResponse, error) {
	var services []core.ServiceSpec
	_ = json.Unmarshal(req.State, &services)
	st := core.DeploymentStatus{Deployment: req.Deployment, Health: core.HealthReady}
	for _, s := range services {
		st.Services = append(st.Services, core.ServiceStatus{Name: s.Name, Health: core.HealthReady, Desired: s.Replicas, Ready: s.Replicas})
	}
	return &sdk.StatusResponse{Status: st}, nil
}

// A plugin's main is one line:
//
//	func main() { sdk.Serve(greeter{}) }
//
// Here the same backend is served in process, as a plugin's unit tests do,
// and driven the way the host drives it (package pluginhost is the host's
// side; package backendtest wraps it for conformance tests).
func Example() {
	ctx := context.Background()
	client, err := pluginhost.ServeInProcess(ctx, greeter{})
	if err != nil {
		panic(err)
	}
	defer client.Close()
	fmt.Println(client.Info().Name, client.Info().Capabilities)

	spec := core.DeploymentSpec{Tenant: "acme", Environment: "dev", Name: "hello",
		Services: []core.ServiceSpec{{Name: "web", Image: "example/web:1", Replicas: 2}}}
	applied, err := client.Apply(ctx, &sdk.ApplyRequest{Deployment: spec}, func(e core.Event) {
		fmt.Println("event:", e.Message)
	})
	if err != nil {
		panic(err)
	}
	status, _ := client.Status(ctx, &sdk.StatusRequest{Deployment: spec.Ref(), State: applied.State})
	fmt.Println("web:", status.Status.Service("web").Health, status.Status.Service("web").Ready)

	_, err = client.Restart(ctx, &sdk.RestartRequest{Deployment: spec.Ref(), State: applied.State})
	fmt.Println(err)
	// Output:
	// greeter []
	// event: greeted web
	// web: ready 2
	// backend "greeter" does not support restart
}
