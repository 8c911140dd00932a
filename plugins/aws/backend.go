package aws

import "github.com/alphaswarm/controller/sdk"

// Backend runs deployments on ECS Fargate in one account and region. Its
// fields are set once by Configure; it keeps no state between calls.
type Backend struct {
	cfg     config
	clients clients
}

// Interface guards. Exec (ECS Exec) comes in a later step; until it is
// declared, the SDK answers Unsupported for it. Metrics answer Unsupported
// at run time on a cluster without Container Insights' enhanced
// observability, which alone gives task metrics.
var (
	_ sdk.Backend            = (*Backend)(nil)
	_ sdk.ConfigValidator    = (*Backend)(nil)
	_ sdk.Restarter          = (*Backend)(nil)
	_ sdk.StartStopper       = (*Backend)(nil)
	_ sdk.Scaler             = (*Backend)(nil)
	_ sdk.LogStreamer        = (*Backend)(nil)
	_ sdk.NodeHealthReporter = (*Backend)(nil)
	_ sdk.MetricsReader      = (*Backend)(nil)
)

// New returns an unconfigured backend.
func New() *Backend { return &Backend{} }
