package aws

import "github.com/alphaswarm/controller/sdk"

// Backend runs deployments on ECS Fargate in one account and region. Its
// fields are set once by Configure; it keeps no state between calls.
type Backend struct {
	cfg     config
	clients clients
}

// Interface guards. Metrics (CloudWatch GetMetricData) and exec (ECS Exec)
// come in a later step; until they are declared, the SDK answers
// Unsupported for them.
var (
	_ sdk.Backend            = (*Backend)(nil)
	_ sdk.ConfigValidator    = (*Backend)(nil)
	_ sdk.Restarter          = (*Backend)(nil)
	_ sdk.StartStopper       = (*Backend)(nil)
	_ sdk.Scaler             = (*Backend)(nil)
	_ sdk.LogStreamer        = (*Backend)(nil)
	_ sdk.NodeHealthReporter = (*Backend)(nil)
)

// New returns an unconfigured backend.
func New() *Backend { return &Backend{} }
