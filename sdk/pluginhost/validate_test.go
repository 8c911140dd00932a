package pluginhost

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/sdk"
)

// checking is a backend that checks its configuration offline with the
// function its Configure uses, as the SDK asks.
type checking struct {
	failing
	validated chan *sdk.ValidateRequest // what Validate received
}

type checkingConfig struct {
	Timeout string `json:"timeout"`
	Token   string `json:"token"`
	Mode    string `json:"mode"`
}

var checkingSchema = sdk.Schema{Attributes: []sdk.Attribute{
	{Name: "timeout", Type: sdk.TypeString, Default: "30s"},
	{Name: "token", Type: sdk.TypeString, Sensitive: true},
	{Name: "mode", Type: sdk.TypeString, Default: "fast"},
}}

func parseChecking(raw json.RawMessage, unknown sdk.Unknown) (checkingConfig, error) {
	var c checkingConfig
	if err := sdk.DecodeConfig(raw, &c); err != nil {
		return c, err
	}
	if _, err := time.ParseDuration(c.Timeout); err != nil && !unknown.Has("timeout") {
		return c, sdk.InvalidConfig("timeout", "%q is not a duration", c.Timeout)
	}
	if c.Token != "" && !unknown.Has("token") && !strings.HasPrefix(c.Token, "tok-") {
		return c, sdk.InvalidConfig("token", "must start with tok-")
	}
	return c, nil
}

func (b *checking) Configure(_ context.Context, req *sdk.ConfigureRequest) (*sdk.ConfigureResponse, error) {
	_, err := parseChecking(req.Config, nil)
	return &sdk.ConfigureResponse{}, err
}

func (b *checking) ValidateConfig(_ context.Context, req *sdk.ValidateConfigRequest) (*sdk.ValidateConfigResponse, error) {
	c, err := parseChecking(req.Config, req.Unknown)
	if err != nil {
		return nil, err
	}
	resp := &sdk.ValidateConfigResponse{}
	if c.Mode == "slow" {
		resp.Diagnostics = append(resp.Diagnostics,
			sdk.Diagnostic{Severity: sdk.SeverityWarning, Summary: "slow mode is deprecated", Path: "mode"},
			sdk.Diagnostic{Severity: sdk.SeverityWarning, Summary: "and slow", Path: "mode"})
	}
	return resp, nil
}

func (b *checking) Validate(_ context.Context, req *sdk.ValidateRequest) (*sdk.ValidateResponse, error) {
	b.validated <- req
	return &sdk.ValidateResponse{}, nil
}

// TestValidateConfigReachesTheBackendsChecks sends configurations through
// ValidateConfig: the schema's problems and the backend's own come back as
// diagnostics at their attribute, and unknown values are left unchecked.
func TestValidateConfigReachesTheBackendsChecks(t *testing.T) {
	t.Parallel()
	c := serve(t, &checking{failing: failing{schema: checkingSchema}})
	if !c.Info().OfflineValidation {
		t.Fatal("a backend implementing sdk.ConfigValidator does not declare offline validation")
	}
	for _, tc := range []struct {
		name    string
		config  string
		unknown sdk.Unknown
		want    []sdk.Diagnostic
	}{
		{"valid, with defaults", `{}`, nil, nil},
		{"a schema error", `{"timeout": 5}`, nil,
			[]sdk.Diagnostic{{Severity: sdk.SeverityError, Summary: "want string, got a number", Path: "timeout"}}},
		{"an unknown argument", `{"timeut": "5s"}`, nil,
			[]sdk.Diagnostic{{Severity: sdk.SeverityError, Summary: "unsupported argument; this backend accepts mode, timeout, token", Path: "timeut"}}},
		{"the backend's own check", `{"token": "abc"}`, nil,
			[]sdk.Diagnostic{{Severity: sdk.SeverityError, Summary: "must start with tok-", Path: "token"}}},
		{"an unknown credential is not checked", `{"token": "(credential)"}`, sdk.Unknown{"token"}, nil},
		{"an unknown value is only that value", `{"token": "(credential)", "timeout": "soon"}`, sdk.Unknown{"token"},
			[]sdk.Diagnostic{{Severity: sdk.SeverityError, Summary: `"soon" is not a duration`, Path: "timeout"}}},
		{"several diagnostics", `{"mode": "slow"}`, nil, []sdk.Diagnostic{
			{Severity: sdk.SeverityWarning, Summary: "slow mode is deprecated", Path: "mode"},
			{Severity: sdk.SeverityWarning, Summary: "and slow", Path: "mode"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			resp, err := c.ValidateConfig(context.Background(), &sdk.ValidateConfigRequest{
				Instance: "test", Config: json.RawMessage(tc.config), Unknown: tc.unknown})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, resp.Diagnostics, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("diagnostics (-want +got):\n%s", diff)
			}
		})
	}
}

// TestValidateWithConfigurationOnAnUnconfiguredBackend hands Validate a
// configuration: the backend receives it checked against the schema, with
// defaults, and never saw Configure.
func TestValidateWithConfigurationOnAnUnconfiguredBackend(t *testing.T) {
	t.Parallel()
	b := &checking{failing: failing{schema: checkingSchema, err: errors.New("configure must not be called")}, validated: make(chan *sdk.ValidateRequest, 1)}
	c := serve(t, b)
	spec := core.DeploymentSpec{Tenant: "acme", Environment: "dev", Name: "shop",
		Services: []core.ServiceSpec{{Name: "web", Image: "web:1", Replicas: 1}}}
	if _, err := c.Validate(context.Background(), &sdk.ValidateRequest{Deployment: spec, Instance: "checking.x", Config: json.RawMessage(`{"mode":"slow"}`)}); err != nil {
		t.Fatal(err)
	}
	got := <-b.validated
	if got.Instance != "checking.x" || string(got.Config) != `{"mode":"slow","timeout":"30s"}` || got.Deployment.Name != "shop" {
		t.Errorf("Validate received instance %q, config %s, deployment %q", got.Instance, got.Config, got.Deployment.Name)
	}
	if _, err := c.Validate(context.Background(), &sdk.ValidateRequest{Deployment: spec, Config: json.RawMessage(`{"mode":1}`)}); err == nil || !strings.Contains(err.Error(), "mode") {
		t.Errorf("a configuration that does not fit the schema: %v", err)
	}
}

// TestValidateConfigOfAPluginThatCannotCheckOffline launches a real plugin
// process whose backend does not implement sdk.ConfigValidator, as a
// plugin built before it: the client does not ask it, and answers one
// warning that its checks were skipped; Validate with a configuration is
// refused without reaching it. The plugin's server, asked anyway, checks
// the schema alone.
func TestValidateConfigOfAPluginThatCannotCheckOffline(t *testing.T) {
	t.Parallel()
	c := launchTestPlugin(t)
	if c.Info().OfflineValidation {
		t.Fatal("the minimal plugin declares offline validation")
	}
	resp, err := c.ValidateConfig(context.Background(), &sdk.ValidateConfigRequest{Config: json.RawMessage(`{"region": 1}`)})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Diagnostics) != 1 || resp.Diagnostics[0].Severity != sdk.SeverityWarning || resp.Diagnostics[0].Summary != SkippedSummary ||
		!strings.Contains(resp.Diagnostics[0].Detail, "minimal plugin") {
		t.Errorf("diagnostics %+v, want one warning that the checks were skipped", resp.Diagnostics)
	}
	_, err = c.Validate(context.Background(), &sdk.ValidateRequest{Config: json.RawMessage(`{}`)})
	var unsupported *sdk.UnsupportedError
	if !errors.As(err, &unsupported) {
		t.Errorf("Validate with a configuration: %v, want an UnsupportedError", err)
	}
	raw, err := c.rpc.ValidateConfig(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if d := raw.GetDiagnostics(); len(d) != 1 || d[0].GetPath() != "region" || d[0].GetSeverity() != "error" {
		t.Errorf("the server's schema check answered %v, want one error at region", d)
	}
}
