package kubernetes_test

import (
	"encoding/json"
	"testing"

	"github.com/alphaswarm/controller/sdk"
	"github.com/alphaswarm/controller/sdk/backendtest"
)

// launchUnconfigured starts the plugin binary with an empty environment,
// as the host does for offline checks.
var launchUnconfigured = backendtest.LaunchPackage(pluginPackage)

func configJSON(v map[string]any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

// TestValidateConfigSharesConfiguresChecks checks configurations offline,
// on plugin processes that are never configured and reach no cluster:
// each bad one is refused at the attribute where Configure refuses it,
// and a value unknown (a credential not resolved yet) is not checked.
func TestValidateConfigSharesConfiguresChecks(t *testing.T) {
	t.Parallel()
	execKubeconfig := `{"apiVersion":"v1","kind":"Config","users":[{"name":"u","user":{"exec":{"apiVersion":"client.authentication.k8s.io/v1","command":"/bin/true"}}}]}`
	backendtest.CheckConfigs(t, launchUnconfigured, []backendtest.ConfigCase{
		{Name: "the defaults", Config: configJSON(map[string]any{})},
		{Name: "a namespace template", Config: configJSON(map[string]any{"namespace": "t-{tenant}"})},
		{Name: "a kubeconfig file is not read", Config: configJSON(map[string]any{"kubeconfig": "/nonexistent/kubeconfig"})},
		{Name: "a bad namespace", Config: configJSON(map[string]any{"namespace": "Team_A"}), ErrorPath: "namespace"},
		{Name: "a bad rollout timeout", Config: configJSON(map[string]any{"rollout_timeout": "-1m"}), ErrorPath: "rollout_timeout"},
		{Name: "no field manager", Config: configJSON(map[string]any{"field_manager": ""}), ErrorPath: "field_manager"},
		{Name: "in-cluster and a kubeconfig", Config: configJSON(map[string]any{"in_cluster": true, "kubeconfig": "/k"}), ErrorPath: "in_cluster"},
		{Name: "a kubeconfig twice", Config: configJSON(map[string]any{"kubeconfig": "/k", "kubeconfig_data": "x"}), ErrorPath: "kubeconfig_data"},
		{Name: "an unknown kubeconfig twice", Config: configJSON(map[string]any{"kubeconfig": "/k", "kubeconfig_data": "(credential)"}),
			Unknown: sdk.Unknown{"kubeconfig_data"}, ErrorPath: "kubeconfig_data"},
		{Name: "kubeconfig data that is not one", Config: configJSON(map[string]any{"kubeconfig_data": "]["}), ErrorPath: "kubeconfig_data"},
		{Name: "kubeconfig data that runs a program", Config: configJSON(map[string]any{"kubeconfig_data": execKubeconfig}), ErrorPath: "kubeconfig_data"},
		{Name: "a context kubeconfig data lacks", Config: configJSON(map[string]any{"kubeconfig_data": `{"apiVersion":"v1","kind":"Config"}`, "context": "prod"}), ErrorPath: "context"},
		{Name: "unknown kubeconfig data", Config: configJSON(map[string]any{"kubeconfig_data": "(credential)", "context": "prod"}), Unknown: sdk.Unknown{"kubeconfig_data"}},
		{Name: "an unknown namespace", Config: configJSON(map[string]any{"namespace": "(credential)"}), Unknown: sdk.Unknown{"namespace"}},
	})
}
