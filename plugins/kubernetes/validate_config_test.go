package kubernetes_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/alphaswarm/controller/sdk"
	"github.com/alphaswarm/controller/sdk/pluginhost"
)

// launchUnconfigured starts the plugin binary with an empty environment,
// as the host does for offline checks.
func launchUnconfigured(t *testing.T) *pluginhost.Client {
	t.Helper()
	c, err := pluginhost.Launch(context.Background(), pluginhost.LaunchConfig{Path: pluginBinary})
	if err != nil {
		t.Fatalf("launch: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

// TestValidateConfigSharesConfiguresChecks checks configurations offline,
// on plugin processes that are never configured and reach no cluster:
// each bad one is refused at the attribute where Configure refuses it,
// and a value unknown (a credential not resolved yet) is not checked.
func TestValidateConfigSharesConfiguresChecks(t *testing.T) {
	t.Parallel()
	execKubeconfig := `{"apiVersion":"v1","kind":"Config","users":[{"name":"u","user":{"exec":{"apiVersion":"client.authentication.k8s.io/v1","command":"/bin/true"}}}]}`
	for _, tc := range []struct {
		name    string
		config  map[string]any
		unknown sdk.Unknown
		path    string // of the one error; empty: none
	}{
		{"the defaults", map[string]any{}, nil, ""},
		{"a namespace template", map[string]any{"namespace": "t-{tenant}"}, nil, ""},
		{"a bad namespace", map[string]any{"namespace": "Team_A"}, nil, "namespace"},
		{"a bad rollout timeout", map[string]any{"rollout_timeout": "-1m"}, nil, "rollout_timeout"},
		{"no field manager", map[string]any{"field_manager": ""}, nil, "field_manager"},
		{"in-cluster and a kubeconfig", map[string]any{"in_cluster": true, "kubeconfig": "/k"}, nil, "in_cluster"},
		{"a kubeconfig twice", map[string]any{"kubeconfig": "/k", "kubeconfig_data": "x"}, nil, "kubeconfig_data"},
		{"an unknown kubeconfig twice", map[string]any{"kubeconfig": "/k", "kubeconfig_data": "(credential)"}, sdk.Unknown{"kubeconfig_data"}, "kubeconfig_data"},
		{"kubeconfig data that is not one", map[string]any{"kubeconfig_data": "]["}, nil, "kubeconfig_data"},
		{"kubeconfig data that runs a program", map[string]any{"kubeconfig_data": execKubeconfig}, nil, "kubeconfig_data"},
		{"a context kubeconfig data lacks", map[string]any{"kubeconfig_data": `{"apiVersion":"v1","kind":"Config"}`, "context": "prod"}, nil, "context"},
		{"unknown kubeconfig data", map[string]any{"kubeconfig_data": "(credential)", "context": "prod"}, sdk.Unknown{"kubeconfig_data"}, ""},
		{"an unknown namespace", map[string]any{"namespace": "(credential)"}, sdk.Unknown{"namespace"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			raw, _ := json.Marshal(tc.config)
			c := launchUnconfigured(t)
			resp, err := c.ValidateConfig(ctx, &sdk.ValidateConfigRequest{Instance: "k", Config: raw, Unknown: tc.unknown})
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tc.path == "" && len(resp.Diagnostics) != 0:
				t.Fatalf("diagnostics %+v, want none", resp.Diagnostics)
			case tc.path != "" && (len(resp.Diagnostics) != 1 || resp.Diagnostics[0].Path != tc.path || resp.Diagnostics[0].Severity != sdk.SeverityError):
				t.Fatalf("diagnostics %+v, want one error at %s", resp.Diagnostics, tc.path)
			case tc.path == "" || tc.unknown != nil:
				return
			}
			_, err = launchUnconfigured(t).Configure(ctx, &sdk.ConfigureRequest{Instance: "k", Config: raw})
			var invalid *sdk.InvalidConfigError
			if !errors.As(err, &invalid) || invalid.Path != tc.path || invalid.Message != resp.Diagnostics[0].Summary {
				t.Errorf("configure: %v\nwant the error ValidateConfig gave: %s: %s", err, tc.path, resp.Diagnostics[0].Summary)
			}
		})
	}
}
