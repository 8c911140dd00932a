package sdk

import "slices"

// Capability names one optional operation a backend can declare.
type Capability string

// The optional capabilities and the interface that declares each.
const (
	CapRestart    Capability = "restart"     // Restarter
	CapStartStop  Capability = "start_stop"  // StartStopper
	CapScale      Capability = "scale"       // Scaler
	CapLogs       Capability = "logs"        // LogStreamer
	CapExec       Capability = "exec"        // Executor
	CapMetrics    Capability = "metrics"     // MetricsReader
	CapNodeHealth Capability = "node_health" // NodeHealthReporter
)

// AllCapabilities lists every optional capability, in a stable order.
var AllCapabilities = []Capability{
	CapRestart, CapStartStop, CapScale, CapLogs, CapExec, CapMetrics, CapNodeHealth,
}

// Capabilities is a set of declared capabilities, kept sorted.
type Capabilities []Capability

// Has reports whether c is in the set.
func (cs Capabilities) Has(c Capability) bool { return slices.Contains(cs, c) }

// CapabilitiesOf returns the capabilities b declares by the interfaces it
// implements.
func CapabilitiesOf(b Backend) Capabilities {
	var cs Capabilities
	add := func(ok bool, c Capability) {
		if ok {
			cs = append(cs, c)
		}
	}
	_, ok := b.(Restarter)
	add(ok, CapRestart)
	_, ok = b.(StartStopper)
	add(ok, CapStartStop)
	_, ok = b.(Scaler)
	add(ok, CapScale)
	_, ok = b.(LogStreamer)
	add(ok, CapLogs)
	_, ok = b.(Executor)
	add(ok, CapExec)
	_, ok = b.(MetricsReader)
	add(ok, CapMetrics)
	_, ok = b.(NodeHealthReporter)
	add(ok, CapNodeHealth)
	slices.Sort(cs)
	return cs
}
