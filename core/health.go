package core

// Health is the state of a deployment, a service, a replica or a node.
type Health string

// The health values, from best to worst.
const (
	// HealthReady: running and passing its health check.
	HealthReady Health = "ready"
	// HealthProgressing: being created, updated or started; not failing yet.
	HealthProgressing Health = "progressing"
	// HealthDegraded: running, but some replicas are not ready.
	HealthDegraded Health = "degraded"
	// HealthDown: exists but nothing is serving (stopped, crashed, unhealthy).
	HealthDown Health = "down"
	// HealthMissing: the backend has nothing for it.
	HealthMissing Health = "missing"
	// HealthUnknown: the backend could not tell.
	HealthUnknown Health = "unknown"
)

// healthRank orders health from best to worst for Aggregate.
var healthRank = map[Health]int{
	HealthReady:       0,
	HealthProgressing: 1,
	HealthDegraded:    2,
	HealthUnknown:     3,
	HealthDown:        4,
	HealthMissing:     5,
}

// Valid reports whether h is one of the defined health values.
func (h Health) Valid() bool {
	_, ok := healthRank[h]
	return ok
}

// Aggregate combines the health of parts into the health of the whole: all
// parts alike give that health; some serving and some not give degraded;
// otherwise the worst part wins. No parts at all is missing.
func Aggregate(parts ...Health) Health {
	if len(parts) == 0 {
		return HealthMissing
	}
	worst, serving := parts[0], false
	for _, h := range parts {
		if !h.Valid() {
			h = HealthUnknown
		}
		if h == HealthReady || h == HealthProgressing || h == HealthDegraded {
			serving = true
		}
		if healthRank[h] > healthRank[worst] {
			worst = h
		}
	}
	if serving && (worst == HealthDown || worst == HealthMissing) {
		return HealthDegraded
	}
	return worst
}
