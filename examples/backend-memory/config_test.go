package memory

import (
	"encoding/json"
	"testing"

	"github.com/alphaswarm/controller/sdk"
	"github.com/alphaswarm/controller/sdk/backendtest"
)

// TestValidateConfigSharesConfiguresChecks checks configurations offline,
// on plugin processes that are never configured: each bad one is refused
// at the attribute where Configure refuses it, and a value unknown (a
// credential not resolved yet) is not checked.
func TestValidateConfigSharesConfiguresChecks(t *testing.T) {
	t.Parallel()
	backendtest.CheckConfigs(t, backendtest.LaunchPackage("./cmd/swarm-backend-memory"), []backendtest.ConfigCase{
		{Name: "the defaults", Config: json.RawMessage(`{}`)},
		{Name: "a bad latency", Config: json.RawMessage(`{"latency": "soon"}`), ErrorPath: "latency"},
		{Name: "a log interval of zero", Config: json.RawMessage(`{"log_interval": "0s"}`), ErrorPath: "log_interval"},
		{Name: "a fault block, which only the faulty test plugin takes", Config: json.RawMessage(`{"fault": [{"op": "apply"}]}`), ErrorPath: "fault"},
		{Name: "an unknown latency", Config: json.RawMessage(`{"latency": "(credential)"}`), Unknown: sdk.Unknown{"latency"}},
	})
}
