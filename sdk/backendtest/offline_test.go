package backendtest_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/sdk"
	"github.com/alphaswarm/controller/sdk/backendtest"
)

// checked is a backend whose configuration is one word, "mode", fast or
// slow. Its ValidateConfig shares Configure's check, unless lax: then it
// accepts anything, which CheckConfigs must catch.
type checked struct{ lax bool }

func checkMode(raw json.RawMessage, unknown sdk.Unknown) error {
	var c struct {
		Mode string `json:"mode"`
	}
	if err := sdk.DecodeConfig(raw, &c); err != nil {
		return err
	}
	if c.Mode != "fast" && c.Mode != "slow" && !unknown.Has("mode") {
		return sdk.InvalidConfig("mode", "%q must be fast or slow", c.Mode)
	}
	return nil
}

func (b *checked) Info(context.Context) (*sdk.InfoResponse, error) {
	return &sdk.InfoResponse{Name: "checked", Version: "0.0.1", ConfigSchema: sdk.Schema{
		Attributes: []sdk.Attribute{{Name: "mode", Type: sdk.TypeString, Default: "fast"}}}}, nil
}

func (b *checked) Configure(_ context.Context, req *sdk.ConfigureRequest) (*sdk.ConfigureResponse, error) {
	return &sdk.ConfigureResponse{}, checkMode(req.Config, nil)
}

func (b *checked) ValidateConfig(_ context.Context, req *sdk.ValidateConfigRequest) (*sdk.ValidateConfigResponse, error) {
	if b.lax {
		return &sdk.ValidateConfigResponse{}, nil
	}
	return &sdk.ValidateConfigResponse{}, checkMode(req.Config, req.Unknown)
}

func (b *checked) Validate(context.Context, *sdk.ValidateRequest) (*sdk.ValidateResponse, error) {
	return &sdk.ValidateResponse{}, nil
}

func (b *checked) Plan(context.Context, *sdk.PlanRequest) (*sdk.PlanResponse, error) {
	return &sdk.PlanResponse{}, nil
}

func (b *checked) Apply(context.Context, *sdk.ApplyRequest, sdk.ProgressFunc) (*sdk.ApplyResponse, error) {
	return &sdk.ApplyResponse{}, nil
}

func (b *checked) Destroy(context.Context, *sdk.DestroyRequest) (*sdk.DestroyResponse, error) {
	return &sdk.DestroyResponse{}, nil
}

func (b *checked) Status(_ context.Context, req *sdk.StatusRequest) (*sdk.StatusResponse, error) {
	return &sdk.StatusResponse{Status: core.DeploymentStatus{Deployment: req.Deployment, Health: core.HealthMissing}}, nil
}

var modeCases = []backendtest.ConfigCase{
	{Name: "the default", Config: json.RawMessage(`{}`)},
	{Name: "slow", Config: json.RawMessage(`{"mode": "slow"}`)},
	{Name: "a bad mode", Config: json.RawMessage(`{"mode": "warp"}`), ErrorPath: "mode"},
	{Name: "a mode of the wrong type", Config: json.RawMessage(`{"mode": 9}`), ErrorPath: "mode"},
	{Name: "an unknown mode", Config: json.RawMessage(`{"mode": "(credential)"}`), Unknown: sdk.Unknown{"mode"}},
}

// TestCheckConfigs passes a backend whose offline check is Configure's.
func TestCheckConfigs(t *testing.T) {
	backendtest.CheckConfigs(t, backendtest.InProcess(func() sdk.Backend { return &checked{} }), modeCases)
}

// TestCheckConfigsCatchesALaxValidateConfig runs CheckConfigs in a child
// test process against a backend whose ValidateConfig accepts what its
// Configure refuses, and expects it to fail saying so.
func TestCheckConfigsCatchesALaxValidateConfig(t *testing.T) {
	if os.Getenv("BACKENDTEST_LAX_CHILD") != "" {
		backendtest.CheckConfigs(t, backendtest.InProcess(func() sdk.Backend { return &checked{lax: true} }), modeCases)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestCheckConfigsCatchesALaxValidateConfig$", "-test.count=1")
	cmd.Env = append(os.Environ(), "BACKENDTEST_LAX_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("CheckConfigs passed a ValidateConfig that accepts what Configure refuses:\n%s", out)
	}
	if !strings.Contains(string(out), `validate config {"mode": "warp"}: [], want one error at mode`) {
		t.Errorf("CheckConfigs failed, but not with the finding:\n%s", out)
	}
}
