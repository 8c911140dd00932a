package memory

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/sdk"
)

// world is the simulated platform for one deployment: what runs, kept in the
// state blob between calls. Salted carries the deployment's salt, which a
// backend that hashes secret values keys the hash with
// (sdk.Salt.HashSecrets); the simulator only keeps it.
type world struct {
	sdk.Salted
	Deployment core.DeploymentRef `json:"deployment"`
	Services   []*service         `json:"services"`
}

// service is one simulated service. Stopped services remember their count.
type service struct {
	Spec     core.ServiceSpec `json:"spec"`
	Replicas []replica        `json:"replicas"`
	Stopped  int              `json:"stopped_replicas,omitempty"`
	IsDown   bool             `json:"stopped,omitempty"`
	Next     int              `json:"next_number"`
}

// replica is one simulated container.
type replica struct {
	ID        string    `json:"id"`
	StartedAt time.Time `json:"started_at"`
	Restarts  int       `json:"restarts"`
}

func (w *world) specs() []core.ServiceSpec {
	out := make([]core.ServiceSpec, len(w.Services))
	for i, s := range w.Services {
		out[i] = s.Spec
	}
	return out
}

func (w *world) service(name string) *service {
	for _, s := range w.Services {
		if s.Spec.Name == name {
			return s
		}
	}
	return nil
}

// converge makes the world match spec: new services are created in
// dependency order, changed ones have their replicas replaced one at a time,
// unchanged ones are left alone, and removed ones are deleted.
func (w *world) converge(ctx context.Context, spec *core.DeploymentSpec, report *sdk.Progress) error {
	next := make([]*service, 0, len(spec.Services))
	for _, name := range spec.StartOrder() {
		if err := ctx.Err(); err != nil {
			return err
		}
		want := spec.Service(name)
		s := w.service(name)
		switch {
		case s == nil:
			s = &service{Spec: *want}
			s.scaleTo(want.Replicas, report)
		case s.IsDown:
			s.Spec, s.Stopped = *want, want.Replicas
		default:
			if !sameTemplate(s.Spec, *want) {
				s.Spec = *want
				s.replace(report)
			}
			s.Spec = *want
			s.scaleTo(want.Replicas, report)
		}
		next = append(next, s)
	}
	for _, s := range w.Services {
		if spec.Service(s.Spec.Name) == nil {
			report.Infof(s.Spec.Name, "", "deleted service %s", s.Spec.Name)
		}
	}
	w.Services = next
	return nil
}

// sameTemplate reports whether two specs differ at most in replica count, so
// that scaling does not replace replicas.
func sameTemplate(a, b core.ServiceSpec) bool {
	a.Replicas, b.Replicas = 0, 0
	return reflect.DeepEqual(a, b)
}

// scaleTo adds replicas with new numbers, or removes the highest first.
func (s *service) scaleTo(n int, report *sdk.Progress) {
	for len(s.Replicas) < n {
		s.Next++
		r := replica{ID: fmt.Sprintf("%s-%d", s.Spec.Name, s.Next), StartedAt: time.Now().UTC()}
		s.Replicas = append(s.Replicas, r)
		report.Infof(s.Spec.Name, r.ID, "started replica %s from %s", r.ID, s.Spec.Image)
	}
	for len(s.Replicas) > n {
		r := s.Replicas[len(s.Replicas)-1]
		s.Replicas = s.Replicas[:len(s.Replicas)-1]
		report.Infof(s.Spec.Name, r.ID, "removed replica %s", r.ID)
	}
}

// replace swaps each replica for a new one, start-first.
func (s *service) replace(report *sdk.Progress) {
	for i, old := range s.Replicas {
		s.Next++
		r := replica{ID: fmt.Sprintf("%s-%d", s.Spec.Name, s.Next), StartedAt: time.Now().UTC()}
		report.Infof(s.Spec.Name, r.ID, "started replica %s from %s, replacing %s", r.ID, s.Spec.Image, old.ID)
		s.Replicas[i] = r
	}
}

// simulatedFailure returns why a replica of s would fail, from its image tag:
// ":crash" exits at once, ":unhealthy" never passes its health check.
func (s *service) simulatedFailure() (reason string, exitCode *int) {
	switch {
	case strings.HasSuffix(s.Spec.Image, ":crash"):
		code := 1
		return "exited with code 1 (simulated by image tag :crash)", &code
	case strings.HasSuffix(s.Spec.Image, ":unhealthy"):
		return "health check failing (simulated by image tag :unhealthy)", nil
	}
	return "", nil
}

func (w *world) status(ref core.DeploymentRef) core.DeploymentStatus {
	st := core.DeploymentStatus{Deployment: ref, ObservedAt: time.Now().UTC(), Services: []core.ServiceStatus{}}
	var parts []core.Health
	for _, s := range w.Services {
		ss := s.status()
		parts = append(parts, ss.Health)
		if ss.Health != core.HealthReady {
			st.Reasons = append(st.Reasons, fmt.Sprintf("service %s: %s", ss.Name, strings.Join(ss.Reasons, "; ")))
		}
		st.Services = append(st.Services, ss)
	}
	st.Health = core.Aggregate(parts...)
	return st
}

func (s *service) status() core.ServiceStatus {
	ss := core.ServiceStatus{Name: s.Spec.Name, Desired: s.Spec.Replicas}
	if s.IsDown {
		ss.Desired = s.Stopped
		ss.Health, ss.Reasons = core.HealthDown, []string{"stopped"}
		return ss
	}
	reason, exit := s.simulatedFailure()
	for _, r := range s.Replicas {
		rs := core.ReplicaStatus{ID: r.ID, Health: core.HealthReady, StartedAt: r.StartedAt, Restarts: r.Restarts}
		if reason != "" {
			rs.Health, rs.Reasons, rs.ExitCode = core.HealthDown, []string{reason}, exit
		} else {
			ss.Ready++
		}
		ss.Replicas = append(ss.Replicas, rs)
	}
	switch {
	case ss.Ready == ss.Desired:
		ss.Health = core.HealthReady
	case ss.Ready == 0:
		ss.Health = core.HealthDown
		ss.Reasons = []string{fmt.Sprintf("0 of %d replicas ready: %s", ss.Desired, reason)}
	default:
		ss.Health = core.HealthDegraded
		ss.Reasons = []string{fmt.Sprintf("%d of %d replicas ready", ss.Ready, ss.Desired)}
	}
	return ss
}
