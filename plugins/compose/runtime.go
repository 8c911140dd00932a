package compose

import (
	"context"
	"fmt"

	"github.com/docker/docker/api/types/container"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/sdk"
)

// target is what a runtime operation works on: the project, its state, and
// the services the request names (all when it names none).
type target struct {
	p        project
	st       *state
	services []*core.ServiceSpec
	replicas map[string][]replica
}

func (b *Backend) target(ctx context.Context, ref core.DeploymentRef, stateBlob []byte, service string) (*target, error) {
	if b.docker == nil {
		return nil, fmt.Errorf("backend is not configured")
	}
	st, err := decodeState(stateBlob, b.legacyProject(ref))
	if err != nil {
		return nil, err
	}
	t := &target{p: b.project(ref, st), st: st}
	for i := range st.Services {
		if service == "" || st.Services[i].Name == service {
			t.services = append(t.services, &st.Services[i])
		}
	}
	if service != "" && len(t.services) == 0 {
		return nil, sdk.NotFound("service %q in deployment %s", service, ref)
	}
	if t.replicas, err = b.listReplicas(ctx, t.p); err != nil {
		return nil, err
	}
	return t, nil
}

// startExisting starts a stopped container and waits until it is ready.
func (b *Backend) startExisting(ctx context.Context, svc *core.ServiceSpec, r replica, report *sdk.Progress) error {
	if err := b.docker.ContainerStart(ctx, r.id, container.StartOptions{}); err != nil {
		return b.engineError(fmt.Errorf("service %q: start %s: %w", svc.Name, r.name, explainStart(err)))
	}
	if err := b.waitReady(ctx, svc, r); err != nil {
		return fmt.Errorf("service %q: %w", svc.Name, err)
	}
	report.Infof(svc.Name, r.short(), "started %s", r.name)
	return nil
}

func (b *Backend) Restart(ctx context.Context, req *sdk.RestartRequest) (*sdk.RestartResponse, error) {
	t, err := b.target(ctx, req.Deployment, req.State, req.Service)
	if err != nil {
		return nil, err
	}
	timeout := int(b.cfg.stopTimeout.Seconds())
	for _, svc := range t.services {
		for _, r := range t.replicas[svc.Name] { // one at a time, so the others keep serving
			if err := b.docker.ContainerRestart(ctx, r.id, container.StopOptions{Timeout: &timeout}); err != nil {
				return nil, b.engineError(fmt.Errorf("service %q: restart %s: %w", svc.Name, r.name, err))
			}
			if err := b.waitReady(ctx, svc, r); err != nil {
				return nil, fmt.Errorf("service %q: %w", svc.Name, err)
			}
		}
	}
	return &sdk.RestartResponse{}, nil
}

func (b *Backend) Stop(ctx context.Context, req *sdk.StopRequest) (*sdk.StopResponse, error) {
	t, err := b.target(ctx, req.Deployment, req.State, req.Service)
	if err != nil {
		return nil, err
	}
	timeout := int(b.cfg.stopTimeout.Seconds())
	for _, svc := range t.services {
		if _, stopped := t.st.Stopped[svc.Name]; !stopped {
			t.st.SetStopped(svc.Name, svc.Replicas)
		}
		for _, r := range t.replicas[svc.Name] {
			if err := b.docker.ContainerStop(ctx, r.id, container.StopOptions{Timeout: &timeout}); err != nil && !isNotFound(err) {
				err = b.engineError(fmt.Errorf("service %q: stop %s: %w", svc.Name, r.name, err))
				blob, err := stateFormat.EncodeAfter(err, *t.st, t.st.Salt())
				return &sdk.StopResponse{State: blob}, err
			}
		}
	}
	blob, err := stateFormat.EncodeAfter(nil, *t.st, t.st.Salt())
	return &sdk.StopResponse{State: blob}, err
}

func (b *Backend) Start(ctx context.Context, req *sdk.StartRequest) (*sdk.StartResponse, error) {
	t, err := b.target(ctx, req.Deployment, req.State, req.Service)
	if err != nil {
		return nil, err
	}
	for _, svc := range t.services {
		for _, r := range t.replicas[svc.Name] {
			if r.state != "running" {
				if err := b.startExisting(ctx, svc, r, nil); err != nil {
					return nil, err
				}
			}
		}
		delete(t.st.Stopped, svc.Name)
	}
	blob, err := stateFormat.EncodeAfter(nil, *t.st, t.st.Salt())
	return &sdk.StartResponse{State: blob}, err
}

func (b *Backend) Scale(ctx context.Context, req *sdk.ScaleRequest) (*sdk.ScaleResponse, error) {
	if req.Service == "" {
		return nil, sdk.NotFound("service \"\" (scale needs a service name)")
	}
	t, err := b.target(ctx, req.Deployment, req.State, req.Service)
	if err != nil {
		return nil, err
	}
	svc := t.services[0]
	svc.Replicas = req.Replicas
	if _, stopped := t.st.Stopped[svc.Name]; stopped {
		t.st.SetStopped(svc.Name, req.Replicas) // applies on start
	} else {
		err = b.scale(ctx, t, svc, req.Replicas)
	}
	blob, err := stateFormat.EncodeAfter(err, *t.st, t.st.Salt())
	return &sdk.ScaleResponse{State: blob}, err
}

// scale adds replicas to svc, or removes the highest numbers, until it
// has n.
func (b *Backend) scale(ctx context.Context, t *target, svc *core.ServiceSpec, n int) error {
	rs := t.replicas[svc.Name]
	next := nextNumber(rs)
	for len(rs) < n {
		if err := b.addReplica(ctx, t, svc, rs, next, nil); err != nil {
			return err
		}
		rs = append(rs, t.p.replica(svc.Name, next))
		next++
	}
	return b.scaleDown(ctx, rs, n, nil)
}

// addReplica adds replica n to svc for scaling up. Scale requests carry no
// secret values, so it copies a running replica; with none to copy it
// builds one from the spec, which only works for a service without secrets.
func (b *Backend) addReplica(ctx context.Context, t *target, svc *core.ServiceSpec, rs []replica, n int, report *sdk.Progress) error {
	for i := len(rs) - 1; i >= 0; i-- {
		if rs[i].state == "running" {
			return b.startReplicaLike(ctx, t.p, svc, rs[i], n, report)
		}
	}
	if len(svc.SecretEnv) > 0 {
		return fmt.Errorf("service %q has no replica to copy and its secrets are only resolved on apply: apply with %d replicas instead", svc.Name, svc.Replicas)
	}
	if err := b.ensureImage(ctx, svc, report); err != nil {
		return err
	}
	return b.startReplica(ctx, t.p, svc, n, configHash(t.p, svc, nil, t.st.Salt()), nil, report)
}
