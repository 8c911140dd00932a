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
	// http reads the replicas' log streams, and its TLS configuration
	// dials their exec endpoints (not ARM: the SDK's pipeline does that).
	http *http.Client
}

// Interface guards: every capability. Exec's answers carry
// sdk.ExitCodeUnknown: the replica's exec endpoint gives no exit status.
var (
	_ sdk.Backend            = (*Backend)(nil)
	_ sdk.ConfigValidator    = (*Backend)(nil)
	_ sdk.Scaler             = (*Backend)(nil)
	_ sdk.StartStopper       = (*Backend)(nil)
	_ sdk.Restarter          = (*Backend)(nil)
	_ sdk.NodeHealthReporter = (*Backend)(nil)
	_ sdk.LogStreamer        = (*Backend)(nil)
	_ sdk.MetricsReader      = (*Backend)(nil)
	_ sdk.Executor           = (*Backend)(nil)
)

// New returns an unconfigured backend.
func New() *Backend { return &Backend{http: &http.Client{}} }
