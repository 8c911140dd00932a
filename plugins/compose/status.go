package compose

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/sdk"
)

func (b *Backend) Status(ctx context.Context, req *sdk.StatusRequest) (*sdk.StatusResponse, error) {
	t, err := b.target(ctx, req.Deployment, req.State, "")
	if err != nil {
		return nil, err
	}
	st := core.DeploymentStatus{Deployment: req.Deployment, ObservedAt: time.Now().UTC(), Services: []core.ServiceStatus{}}
	// Services from the state, then any the engine runs that the state does
	// not know (after a lost state, or a destroy that failed half way).
	names := make([]string, 0, len(t.services))
	specs := map[string]*core.ServiceSpec{}
	for _, s := range t.services {
		names = append(names, s.Name)
		specs[s.Name] = s
	}
	for _, name := range slices.Sorted(maps.Keys(t.replicas)) {
		if specs[name] == nil {
			names = append(names, name)
		}
	}
	var parts []core.Health
	for _, name := range names {
		ss := b.serviceStatus(ctx, name, specs[name], t)
		parts = append(parts, ss.Health)
		if ss.Health != core.HealthReady {
			st.Reasons = append(st.Reasons, fmt.Sprintf("service %s: %s", name, strings.Join(ss.Reasons, "; ")))
		}
		st.Services = append(st.Services, ss)
	}
	st.Health = core.Aggregate(parts...)
	return &sdk.StatusResponse{Status: st}, nil
}

func (b *Backend) serviceStatus(ctx context.Context, name string, spec *core.ServiceSpec, t *target) core.ServiceStatus {
	ss := core.ServiceStatus{Name: name}
	if spec == nil {
		spec = &core.ServiceSpec{Name: name}
	} else {
		ss.Desired = spec.Replicas
	}
	for _, r := range t.replicas[name] {
		rs := b.replicaStatus(ctx, spec, r)
		if rs.Health == core.HealthReady {
			ss.Ready++
		}
		ss.Replicas = append(ss.Replicas, rs)
	}
	if remembered, stopped := t.st.Stopped[name]; stopped {
		ss.Desired = remembered
		if ss.Ready == 0 {
			ss.Health, ss.Reasons = core.HealthDown, []string{"stopped"}
			return ss
		}
	}
	switch {
	case len(ss.Replicas) == 0 && ss.Desired == 0 && spec.Image != "":
		ss.Health = core.HealthReady
	case len(ss.Replicas) == 0:
		ss.Health, ss.Reasons = core.HealthMissing, []string{"no containers"}
	case ss.Ready >= ss.Desired && ss.Ready == len(ss.Replicas):
		ss.Health = core.HealthReady
	case ss.Ready == 0:
		ss.Health = core.HealthDown
		ss.Reasons = replicaReasons(ss.Replicas)
	default:
		ss.Health = core.HealthDegraded
		ss.Reasons = append([]string{fmt.Sprintf("%d of %d replicas ready", ss.Ready, max(ss.Desired, len(ss.Replicas)))}, replicaReasons(ss.Replicas)...)
	}
	return ss
}

func replicaReasons(rs []core.ReplicaStatus) []string {
	var out []string
	for _, r := range rs {
		if r.Health != core.HealthReady {
			out = append(out, r.ID+": "+strings.Join(r.Reasons, ", "))
		}
	}
	return out
}

// replicaStatus reads one container: running and healthy is ready; a
// failing check, an exit (with its code), an OOM kill or restarts explain
// anything else.
func (b *Backend) replicaStatus(ctx context.Context, spec *core.ServiceSpec, r replica) core.ReplicaStatus {
	rs := core.ReplicaStatus{ID: r.short(), Health: core.HealthUnknown}
	in, err := b.docker.ContainerInspect(ctx, r.id)
	if err != nil {
		rs.Reasons = []string{"inspect: " + err.Error()}
		return rs
	}
	s := in.State
	rs.Restarts = in.RestartCount
	if t, err := time.Parse(time.RFC3339Nano, s.StartedAt); err == nil && t.Year() > 1 {
		rs.StartedAt = t.UTC()
	}
	if in.RestartCount > 0 {
		rs.Reasons = append(rs.Reasons, fmt.Sprintf("restarted %d times", in.RestartCount))
	}
	if s.OOMKilled {
		rs.Reasons = append(rs.Reasons, "killed for using too much memory (OOM)")
	}
	switch {
	case s.Restarting:
		rs.Health = core.HealthProgressing
		rs.Reasons = append(rs.Reasons, fmt.Sprintf("restarting after exit code %d", s.ExitCode))
	case s.Running && s.Paused:
		rs.Health, rs.Reasons = core.HealthDown, append(rs.Reasons, "paused")
	case s.Running:
		ok, problem := b.replicaHealthy(ctx, spec, in)
		switch {
		case ok:
			rs.Health = core.HealthReady
		case inStartPeriod(spec, rs.StartedAt) || strings.Contains(problem, "starting"):
			rs.Health, rs.Reasons = core.HealthProgressing, append(rs.Reasons, problem)
		default:
			rs.Health, rs.Reasons = core.HealthDown, append(rs.Reasons, problem)
		}
	case s.Status == container.StateCreated:
		rs.Health, rs.Reasons = core.HealthDown, append(rs.Reasons, "created, never started")
	default:
		code := s.ExitCode
		rs.ExitCode = &code
		rs.Health, rs.Reasons = core.HealthDown, append(rs.Reasons, fmt.Sprintf("%s, exit code %d", s.Status, s.ExitCode))
	}
	return rs
}

func inStartPeriod(spec *core.ServiceSpec, started time.Time) bool {
	return spec.Health != nil && !started.IsZero() && time.Since(started) < spec.Health.StartPeriod.Std()
}
