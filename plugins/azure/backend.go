package azure

import (
	"net/http"

	"github.com/alphaswarm/controller/sdk"
)

// Backend runs deployments on one Container Apps managed environment. Its
// fields are set once by Configure; it keeps no state between calls.
type Backend struct {
	cfg config
	cl  *clients
	// http reads the replicas' log streams (not ARM: the SDK's pipeline
	// does that).
	http *http.Client
}

// Interface guards: the capabilities built so far. Exec is not declared:
// the replica's exec endpoint gives no exit status, so it answers
// Unsupported through the SDK.
var (
	_ sdk.Backend            = (*Backend)(nil)
	_ sdk.ConfigValidator    = (*Backend)(nil)
	_ sdk.Scaler             = (*Backend)(nil)
	_ sdk.StartStopper       = (*Backend)(nil)
	_ sdk.Restarter          = (*Backend)(nil)
	_ sdk.NodeHealthReporter = (*Backend)(nil)
	_ sdk.LogStreamer        = (*Backend)(nil)
	_ sdk.MetricsReader      = (*Backend)(nil)
)

// New returns an unconfigured backend.
func New() *Backend { return &Backend{http: &http.Client{}} }
