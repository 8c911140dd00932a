package compose

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/pkg/jsonmessage"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/sdk"
)

func (b *Backend) Apply(ctx context.Context, req *sdk.ApplyRequest, progress sdk.ProgressFunc) (*sdk.ApplyResponse, error) {
	st, err := decodeState(req.PriorState, b.legacyProject(req.Deployment.Ref()))
	if err != nil {
		return nil, err
	}
	p := b.project(req.Deployment.Ref(), st)
	st.Project = p.name
	report := sdk.NewProgress(progress)
	err = b.converge(ctx, p, &req.Deployment, req.Secrets, st, report)
	// The state records the spec even after a failure: the labels let
	// destroy find whatever was created, and a retry converges again.
	st.AppliedServices = sdk.AppliedServices{Services: req.Deployment.Services}
	if err == nil {
		report.Infof("", "", "project %s converged: %d services", p.name, len(req.Deployment.Services))
	}
	blob, err := stateFormat.EncodeAfter(err, *st, st.Salt())
	return &sdk.ApplyResponse{State: blob}, err
}

// converge makes the engine run spec: network and volumes first, then each
// service once the services it depends on are ready (independent services
// in parallel), then removal of services the spec dropped.
func (b *Backend) converge(ctx context.Context, p project, spec *core.DeploymentSpec, secrets sdk.SecretValues, st *state, report *sdk.Progress) error {
	if err := b.ensureNetwork(ctx, p, report); err != nil {
		return err
	}
	if err := b.ensureVolumes(ctx, p, spec, report); err != nil {
		return err
	}
	existing, err := b.listReplicas(ctx, p)
	if err != nil {
		return err
	}
	done := make(map[string]chan struct{}, len(spec.Services))
	depended := map[string]bool{}
	for _, s := range spec.Services {
		done[s.Name] = make(chan struct{})
		for _, d := range s.DependsOn {
			depended[d] = true
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		failures []error
	)
	for i := range spec.Services {
		svc := &spec.Services[i]
		wg.Go(func() {
			defer close(done[svc.Name])
			for _, dep := range svc.DependsOn {
				select {
				case <-done[dep]:
				case <-ctx.Done():
					return
				}
			}
			if ctx.Err() != nil {
				return
			}
			err := b.convergeService(ctx, p, svc, existing[svc.Name], secrets, st.Salt(), report)
			if err == nil && depended[svc.Name] && svc.Health != nil {
				err = b.waitServiceReady(ctx, p, svc) // replicas it left alone may be unhealthy now
			}
			if err != nil {
				mu.Lock()
				failures = append(failures, err)
				mu.Unlock()
				cancel() // dependents must not start on a failed dependency
			}
		})
	}
	wg.Wait()
	if len(failures) > 0 {
		return errors.Join(failures...)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return b.removeDropped(ctx, p, spec, existing, report)
}

// convergeService brings one service to its spec: replicas whose config
// hash differs are replaced one at a time, start-first, waiting for the new
// one to be ready before the old one goes; then the count is adjusted,
// removing the highest numbers first. An unchanged service is left alone.
func (b *Backend) convergeService(ctx context.Context, p project, svc *core.ServiceSpec, rs []replica, secrets sdk.SecretValues, salt sdk.Salt, report *sdk.Progress) error {
	if err := b.ensureImage(ctx, svc, report); err != nil {
		return err
	}
	hash := configHash(p, svc, secrets, salt)
	var current, outdated []replica
	for _, r := range rs {
		if currentHash(r.hash, p, svc, secrets, salt) {
			current = append(current, r)
		} else {
			outdated = append(outdated, r)
		}
	}
	live := current[:0]
	for _, r := range current {
		if r.state != "running" && r.state != "restarting" {
			// A container an interrupted apply left half-created may be
			// rolled back by the engine after it was listed: count it as
			// absent, and a new replica takes its place below.
			if err := b.startExisting(ctx, svc, r, report); isNotFound(err) {
				report.Infof(svc.Name, r.short(), "%s went away before it could start; replacing it", r.name)
				continue
			} else if err != nil {
				return err
			}
		}
		live = append(live, r)
	}
	current = live
	next := nextNumber(rs)
	for _, old := range outdated {
		if len(current) < svc.Replicas {
			if publishesHostPort(svc) { // the new replica cannot bind the port while the old one holds it
				report.Infof(svc.Name, old.short(), "replacing %s stop-first: it publishes a host port", old.name)
				if err := b.removeReplica(ctx, old); err != nil {
					return err
				}
			}
			if err := b.startReplica(ctx, p, svc, next, hash, secrets, report); err != nil {
				return err
			}
			current = append(current, p.replica(svc.Name, next))
			next++
		}
		if err := b.removeReplica(ctx, old); err != nil {
			return err
		}
		report.Infof(svc.Name, old.short(), "removed %s (outdated)", old.name)
	}
	for len(current) < svc.Replicas {
		if err := b.startReplica(ctx, p, svc, next, hash, secrets, report); err != nil {
			return err
		}
		current = append(current, p.replica(svc.Name, next))
		next++
	}
	return b.scaleDown(ctx, current, svc.Replicas, report)
}

// waitServiceReady waits until every replica of svc passes its check.
func (b *Backend) waitServiceReady(ctx context.Context, p project, svc *core.ServiceSpec) error {
	all, err := b.listReplicas(ctx, p)
	if err != nil {
		return err
	}
	for _, r := range all[svc.Name] {
		if err := b.waitReady(ctx, svc, r); err != nil {
			return fmt.Errorf("service %q: %w", svc.Name, err)
		}
	}
	return nil
}

// scaleDown removes the highest-numbered replicas until n remain.
func (b *Backend) scaleDown(ctx context.Context, rs []replica, n int, report *sdk.Progress) error {
	for i := len(rs) - 1; i >= n; i-- {
		r := rs[i]
		if err := b.removeReplica(ctx, r); err != nil {
			return err
		}
		report.Infof(r.service, r.short(), "removed %s (scaled down)", r.name)
	}
	return nil
}

func publishesHostPort(svc *core.ServiceSpec) bool {
	for _, p := range svc.Ports {
		if p.Host != 0 {
			return true
		}
	}
	return false
}

// removeDropped removes the containers of services the spec no longer has.
func (b *Backend) removeDropped(ctx context.Context, p project, spec *core.DeploymentSpec, existing map[string][]replica, report *sdk.Progress) error {
	for name, rs := range existing {
		if spec.Service(name) != nil {
			continue
		}
		for _, r := range rs {
			if err := b.removeReplica(ctx, r); err != nil {
				return err
			}
		}
		report.Infof(name, "", "removed service %s", name)
	}
	return nil
}

func (b *Backend) ensureNetwork(ctx context.Context, p project, report *sdk.Progress) error {
	nets, err := b.docker.NetworkList(ctx, network.ListOptions{Filters: p.filter(labelNetwork + "=default")})
	if err != nil {
		return b.engineError(fmt.Errorf("list networks of %s: %w", p.name, err))
	}
	if len(nets) > 0 {
		return nil
	}
	labels := p.labels()
	labels[labelNetwork] = "default"
	if _, err := b.docker.NetworkCreate(ctx, p.network(), network.CreateOptions{Driver: "bridge", Labels: labels}); err != nil {
		return b.engineError(fmt.Errorf("create network %s: %w", p.network(), err))
	}
	report.Infof("", "", "created network %s", p.network())
	return nil
}

func (b *Backend) ensureVolumes(ctx context.Context, p project, spec *core.DeploymentSpec, report *sdk.Progress) error {
	seen := map[string]bool{}
	for _, s := range spec.Services {
		for _, v := range s.Volumes {
			if seen[v.Volume] {
				continue
			}
			seen[v.Volume] = true
			labels := p.labels()
			labels[labelVolume] = v.Volume
			vol, err := b.docker.VolumeCreate(ctx, volume.CreateOptions{Name: p.volume(v.Volume), Labels: labels})
			if err != nil {
				return b.engineError(fmt.Errorf("service %q: create volume %s: %w", s.Name, p.volume(v.Volume), err))
			}
			if vol.Labels[labelProject] != p.name {
				return fmt.Errorf("service %q: volume %s exists but belongs to no alphaswarm project %s", s.Name, vol.Name, p.name)
			}
		}
	}
	if len(seen) > 0 {
		report.Infof("", "", "volumes ready: %d", len(seen))
	}
	return nil
}

// ensureImage makes sure the engine has the service's image, pulling it as
// pull_policy allows.
func (b *Backend) ensureImage(ctx context.Context, svc *core.ServiceSpec, report *sdk.Progress) error {
	if b.cfg.PullPolicy != "always" {
		_, err := b.docker.ImageInspect(ctx, svc.Image)
		if err == nil {
			return nil
		}
		if !isNotFound(err) {
			return b.engineError(fmt.Errorf("service %q: inspect image %s: %w", svc.Name, svc.Image, err))
		}
		if b.cfg.PullPolicy == "never" {
			return fmt.Errorf("service %q: image %s is not on the engine and pull_policy is never", svc.Name, svc.Image)
		}
	}
	report.Infof(svc.Name, "", "pulling %s", svc.Image)
	rc, err := b.docker.ImagePull(ctx, svc.Image, image.PullOptions{})
	if err == nil {
		err = jsonmessage.DisplayJSONMessagesStream(rc, io.Discard, 0, false, nil)
		rc.Close()
	}
	if err != nil {
		return b.engineError(fmt.Errorf("service %q: image %s is not on the engine and cannot be pulled: %w", svc.Name, svc.Image, err))
	}
	return nil
}
