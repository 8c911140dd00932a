package aws

import "github.com/alphaswarm/controller/sdk"

// Backend runs deployments on ECS Fargate in one account and region. Its
// fields are set once by Configure; it keeps no state between calls.
type Backend struct {
	cfg     config
	clients clients
}

// Interface guards. Exec is not declared (see execReason): the SDK answers
// Unsupported for it, with that reason. Metrics answer Unsupported at run
// time on a cluster without Container Insights' enhanced observability,
// which alone gives task metrics.
var (
	_ sdk.UnsupportedReasoner = (*Backend)(nil)
	_ sdk.Backend             = (*Backend)(nil)
	_ sdk.ConfigValidator     = (*Backend)(nil)
	_ sdk.Restarter           = (*Backend)(nil)
	_ sdk.StartStopper        = (*Backend)(nil)
	_ sdk.Scaler              = (*Backend)(nil)
	_ sdk.LogStreamer         = (*Backend)(nil)
	_ sdk.NodeHealthReporter  = (*Backend)(nil)
	_ sdk.MetricsReader       = (*Backend)(nil)
)

// New returns an unconfigured backend.
func New() *Backend { return &Backend{} }

// execReason says why exec is not offered: ECS Exec (ExecuteCommand)
// answers with a Session Manager session, and the command's input and
// output then flow over SSM's WebSocket data channel, a protocol of its own
// that this plugin does not speak.
const execReason = "ECS Exec (ExecuteCommand) carries the command's input and output over the SSM Session Manager data channel, " +
	"which this version of the plugin does not implement; read the service's output with logs instead"

// UnsupportedReason says why the plugin does not offer a capability: exec
// (execReason). Every other capability is declared.
func (b *Backend) UnsupportedReason(c sdk.Capability) string {
	if c == sdk.CapExec {
		return execReason
	}
	return ""
}
