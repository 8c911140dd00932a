package aws

import "github.com/alphaswarm/controller/sdk"

// Backend runs deployments on ECS Fargate in one account and region. Its
// fields are set once by Configure; it keeps no state between calls.
type Backend struct {
	cfg     config
	clients clients
}

// Interface guards: the required interface and offline validation. The
// runtime capabilities (restart, scale, start/stop, logs, metrics, node
// health) come in a later step; until they are declared, the SDK answers
// Unsupported for them.
var (
	_ sdk.Backend         = (*Backend)(nil)
	_ sdk.ConfigValidator = (*Backend)(nil)
)

// New returns an unconfigured backend.
func New() *Backend { return &Backend{} }
