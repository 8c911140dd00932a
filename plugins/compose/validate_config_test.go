package compose_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/alphaswarm/controller/sdk"
	"github.com/alphaswarm/controller/sdk/pluginhost"
)

// TestValidateConfigSharesConfiguresChecks checks configurations offline,
// on plugin processes that are never configured and reach no engine: each
// bad one is refused at the attribute where Configure refuses it, and a
// value unknown (a credential not resolved yet) is not checked.
func TestValidateConfigSharesConfiguresChecks(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		config  map[string]any
		unknown sdk.Unknown
		path    string // of the one error; empty: none
	}{
		{"the defaults", map[string]any{}, nil, ""},
		{"a remote engine", map[string]any{"host": "tcp://10.0.0.5:2376", "publish_address": "127.0.0.1"}, nil, ""},
		{"a bad ready timeout", map[string]any{"ready_timeout": "soon"}, nil, "ready_timeout"},
		{"a bad pull policy", map[string]any{"pull_policy": "sometimes"}, nil, "pull_policy"},
		{"a bad restart policy", map[string]any{"restart_policy": "maybe"}, nil, "restart_policy"},
		{"a bad project prefix", map[string]any{"project_prefix": "My_Prefix"}, nil, "project_prefix"},
		{"an engine address that is not one", map[string]any{"host": "10.0.0.5:2376"}, nil, "host"},
		{"a publish address that is not an IP", map[string]any{"publish_address": "localhost"}, nil, "publish_address"},
		{"an unknown engine address", map[string]any{"host": "(credential)"}, sdk.Unknown{"host"}, ""},
		{"TLS files are not read offline", map[string]any{"tls": map[string]any{"ca_file": "/nonexistent/ca", "cert_file": "/c", "key_file": "(credential)"}}, sdk.Unknown{"tls.key_file"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			raw, _ := json.Marshal(tc.config)
			launch := func() *pluginhost.Client {
				c, err := pluginhost.Launch(ctx, pluginhost.LaunchConfig{Path: pluginBinary})
				if err != nil {
					t.Fatalf("launch: %v", err)
				}
				t.Cleanup(c.Close)
				return c
			}
			resp, err := launch().ValidateConfig(ctx, &sdk.ValidateConfigRequest{Instance: "c", Config: raw, Unknown: tc.unknown})
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tc.path == "" && len(resp.Diagnostics) != 0:
				t.Fatalf("diagnostics %+v, want none", resp.Diagnostics)
			case tc.path != "" && (len(resp.Diagnostics) != 1 || resp.Diagnostics[0].Path != tc.path || resp.Diagnostics[0].Severity != sdk.SeverityError):
				t.Fatalf("diagnostics %+v, want one error at %s", resp.Diagnostics, tc.path)
			case tc.path == "":
				return
			}
			_, err = launch().Configure(ctx, &sdk.ConfigureRequest{Instance: "c", Config: raw})
			var invalid *sdk.InvalidConfigError
			if !errors.As(err, &invalid) || invalid.Path != tc.path || invalid.Message != resp.Diagnostics[0].Summary {
				t.Errorf("configure: %v\nwant the error ValidateConfig gave: %s: %s", err, tc.path, resp.Diagnostics[0].Summary)
			}
		})
	}
}
