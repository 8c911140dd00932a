package gcp

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"cloud.google.com/go/run/apiv2/runpb"

	"github.com/alphaswarm/controller/core"
)

// Cloud Run's sizes for an instance whose CPU is always allocated, as a
// fixed instance count has: whole CPUs of cpuTiers; 512 MiB to 32 GiB of
// memory (second generation); more memory needs more CPUs (minCPUs).
var (
	cpuTiers = []int{1, 2, 4, 6, 8}
	minCPUs  = []struct {
		aboveMiB int64
		cpus     int
	}{{24 << 10, 8}, {16 << 10, 6}, {8 << 10, 4}, {4 << 10, 2}}
)

const (
	minMemoryMiB     = 512
	maxMemoryMiB     = 32 << 10
	defaultMemoryMiB = 512
)

// size is the CPU and memory a service's instances get, and what differs
// from what the spec asked for.
type size struct {
	CPU       int   // whole CPUs
	MemoryMiB int64 // MiB
	// Notes say how the spec was approximated; Err says why it cannot run.
	Notes []string
	Err   string
}

// sizeOf maps a service's resources onto Cloud Run's sizes: CPU up to the
// next tier, memory up to whole MiB and at least 512, then each raised to
// what the other needs.
func sizeOf(r core.Resources) size {
	var s size
	switch {
	case r.CPU > float64(cpuTiers[len(cpuTiers)-1]):
		s.Err = fmt.Sprintf("%g CPUs: Cloud Run gives an instance at most %d", r.CPU, cpuTiers[len(cpuTiers)-1])
		return s
	case r.MemoryBytes > maxMemoryMiB<<20:
		s.Err = fmt.Sprintf("%s of memory: Cloud Run gives an instance at most 32 GiB", mib(ceilMiB(r.MemoryBytes)))
		return s
	}
	s.CPU = cpuTiers[0]
	if r.CPU > 0 {
		for _, t := range cpuTiers {
			if float64(t) >= r.CPU {
				s.CPU = t
				break
			}
		}
		if float64(s.CPU) != r.CPU {
			s.Notes = append(s.Notes, fmt.Sprintf("%g CPU rounded up to %d (an always-allocated instance has 1, 2, 4, 6 or 8)", r.CPU, s.CPU))
		}
	} else {
		s.Notes = append(s.Notes, fmt.Sprintf("no CPU limit: Cloud Run's %d CPU", s.CPU))
	}
	s.MemoryMiB = defaultMemoryMiB
	switch {
	case r.MemoryBytes == 0:
		s.Notes = append(s.Notes, fmt.Sprintf("no memory limit: Cloud Run's %s", mib(s.MemoryMiB)))
	case r.MemoryBytes < minMemoryMiB<<20:
		s.MemoryMiB = minMemoryMiB
		s.Notes = append(s.Notes, fmt.Sprintf("memory %s raised to Cloud Run's least, %s", bytesText(r.MemoryBytes), mib(s.MemoryMiB)))
	default:
		s.MemoryMiB = ceilMiB(r.MemoryBytes)
		if s.MemoryMiB<<20 != r.MemoryBytes {
			s.Notes = append(s.Notes, fmt.Sprintf("memory %s rounded up to %s", bytesText(r.MemoryBytes), mib(s.MemoryMiB)))
		}
	}
	for _, m := range minCPUs {
		if s.MemoryMiB > m.aboveMiB && s.CPU < m.cpus {
			s.Notes = append(s.Notes, fmt.Sprintf("CPU raised from %d to %d: Cloud Run needs %d for more than %s of memory", s.CPU, m.cpus, m.cpus, mib(m.aboveMiB)))
			s.CPU = m.cpus
			break
		}
	}
	return s
}

func ceilMiB(b int64) int64 { return (b + 1<<20 - 1) >> 20 }

// mib renders MiB as Cloud Run's documentation does: whole GiB as GiB.
func mib(m int64) string {
	if m%1024 == 0 {
		return fmt.Sprintf("%d GiB", m/1024)
	}
	return fmt.Sprintf("%d MiB", m)
}

func bytesText(b int64) string {
	if b%(1<<20) == 0 {
		return mib(b >> 20)
	}
	return fmt.Sprintf("%d bytes", b)
}

// limits is the container's resource limits.
func (s size) limits() map[string]string {
	return map[string]string{"cpu": strconv.Itoa(s.CPU), "memory": fmt.Sprintf("%dMi", s.MemoryMiB)}
}

// Cloud Run's probe bounds, in seconds.
const (
	maxStartupPeriod  = 240
	maxLivenessPeriod = 3600
	maxInitialDelay   = 240
	maxProbeTimeout   = 240
)

// probes maps a health block onto the container's startup and liveness
// probes, and says what it approximated or dropped.
func probes(svc *core.ServiceSpec) (startup, liveness *runpb.Probe, notes []string) {
	h := svc.Health
	if h == nil {
		return nil, nil, nil
	}
	var port int32
	for _, p := range svc.Ports {
		if p.Name == h.Port {
			port = int32(p.Container)
		}
	}
	seconds := func(what string, d core.Duration, def, lo, hi int32) int32 {
		if d == 0 {
			return def
		}
		exact := time.Duration(d).Seconds()
		v := int32(min(max(math.Ceil(exact), float64(lo)), float64(hi)))
		if float64(v) != exact {
			notes = append(notes, fmt.Sprintf("health %s %s became %ds (Cloud Run takes whole seconds, %d to %d)", what, time.Duration(d), v, lo, hi))
		}
		return v
	}
	failures := int32(3)
	if h.Retries > 0 {
		failures = int32(h.Retries)
	}
	mk := func(maxPeriod int32) *runpb.Probe {
		p := &runpb.Probe{
			PeriodSeconds:    seconds("interval", h.Interval, 10, 1, maxPeriod),
			TimeoutSeconds:   seconds("timeout", h.Timeout, 1, 1, maxProbeTimeout),
			FailureThreshold: failures,
		}
		if p.TimeoutSeconds > p.PeriodSeconds {
			p.TimeoutSeconds = p.PeriodSeconds
		}
		return p
	}
	switch h.Kind {
	case core.HealthCheckHTTP:
		startup, liveness = mk(maxStartupPeriod), mk(maxLivenessPeriod)
		startup.ProbeType = &runpb.Probe_HttpGet{HttpGet: &runpb.HTTPGetAction{Path: h.Path, Port: port}}
		liveness.ProbeType = &runpb.Probe_HttpGet{HttpGet: &runpb.HTTPGetAction{Path: h.Path, Port: port}}
	case core.HealthCheckTCP:
		startup = mk(maxStartupPeriod)
		startup.ProbeType = &runpb.Probe_TcpSocket{TcpSocket: &runpb.TCPSocketAction{Port: port}}
		notes = append(notes, "a tcp health check is the startup probe only: Cloud Run's liveness probes are HTTP or gRPC")
	case core.HealthCheckCommand:
		notes = append(notes, "a command health check is dropped: Cloud Run probes are HTTP, TCP or gRPC; the default TCP startup probe on the port stays")
		return nil, nil, notes
	}
	startup.InitialDelaySeconds = seconds("start_period", h.StartPeriod, 0, 0, maxInitialDelay)
	// The notes of the two probes repeat each other.
	return startup, liveness, dedupe(notes)
}

func dedupe(s []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, v := range s {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}
