package compose_test

import (
	"encoding/json"
	"testing"

	"github.com/alphaswarm/controller/sdk"
	"github.com/alphaswarm/controller/sdk/backendtest"
)

func configJSON(v map[string]any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

// TestValidateConfigSharesConfiguresChecks checks configurations offline,
// on plugin processes that are never configured, with an empty
// environment, and reach no engine: each bad one is refused at the
// attribute where Configure refuses it, and a value unknown (a credential
// not resolved yet) is not checked.
func TestValidateConfigSharesConfiguresChecks(t *testing.T) {
	t.Parallel()
	launch := backendtest.LaunchPackage(pluginPackage)
	backendtest.CheckConfigs(t, launch, []backendtest.ConfigCase{
		{Name: "the defaults", Config: configJSON(map[string]any{})},
		{Name: "a remote engine", Config: configJSON(map[string]any{"host": "tcp://10.0.0.5:2376", "publish_address": "127.0.0.1"})},
		{Name: "a bad ready timeout", Config: configJSON(map[string]any{"ready_timeout": "soon"}), ErrorPath: "ready_timeout"},
		{Name: "a bad pull policy", Config: configJSON(map[string]any{"pull_policy": "sometimes"}), ErrorPath: "pull_policy"},
		{Name: "a bad restart policy", Config: configJSON(map[string]any{"restart_policy": "maybe"}), ErrorPath: "restart_policy"},
		{Name: "a bad project prefix", Config: configJSON(map[string]any{"project_prefix": "My_Prefix"}), ErrorPath: "project_prefix"},
		{Name: "an engine address that is not one", Config: configJSON(map[string]any{"host": "10.0.0.5:2376"}), ErrorPath: "host"},
		{Name: "a publish address that is not an IP", Config: configJSON(map[string]any{"publish_address": "localhost"}), ErrorPath: "publish_address"},
		{Name: "an unknown engine address", Config: configJSON(map[string]any{"host": "(credential)"}), Unknown: sdk.Unknown{"host"}},
		{Name: "TLS files are not read offline", Config: configJSON(map[string]any{"tls": map[string]any{"ca_file": "/nonexistent/ca", "cert_file": "/c", "key_file": "(credential)"}}),
			Unknown: sdk.Unknown{"tls.key_file"}},
	})
}
