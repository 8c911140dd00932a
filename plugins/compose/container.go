package compose

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/go-connections/nat"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/sdk"
)

// replica is one container of a service, as listed by the engine.
type replica struct {
	id, name, service, hash, spec string
	number                        int
	state                         string // running, exited, created, restarting, paused, dead
}

func (r replica) short() string { return replicaID(r.service, r.number) }

// listReplicas returns the project's containers, running or not, grouped by
// service and sorted by number.
func (b *Backend) listReplicas(ctx context.Context, p project) (map[string][]replica, error) {
	list, err := b.docker.ContainerList(ctx, container.ListOptions{All: true, Filters: p.filter()})
	if err != nil {
		return nil, b.engineError(fmt.Errorf("list containers of %s: %w", p.name, err))
	}
	out := map[string][]replica{}
	for _, c := range list {
		n, _ := strconv.Atoi(c.Labels[labelNumber])
		name := strings.TrimPrefix(firstOr(c.Names, c.ID), "/")
		r := replica{id: c.ID, name: name, service: c.Labels[labelService], hash: c.Labels[labelConfigHash],
			spec: c.Labels[labelSpec], number: n, state: c.State}
		out[r.service] = append(out[r.service], r)
	}
	for _, rs := range out {
		slices.SortFunc(rs, func(a, b replica) int { return a.number - b.number })
	}
	return out, nil
}

func firstOr(s []string, def string) string {
	if len(s) > 0 {
		return s[0]
	}
	return def
}

// nextNumber is one more than the highest container number in use.
func nextNumber(rs []replica) int {
	n := 0
	for _, r := range rs {
		n = max(n, r.number)
	}
	return n + 1
}

// containerSpec turns a service into the engine's create request.
func (b *Backend) containerSpec(p project, svc *core.ServiceSpec, n int, hash string, secrets sdk.SecretValues) (*container.Config, *container.HostConfig, *network.NetworkingConfig, error) {
	labels := maps.Clone(svc.Labels)
	if labels == nil {
		labels = map[string]string{}
	}
	maps.Copy(labels, p.labels())
	spec := *svc
	spec.Replicas = 0
	specJSON, _ := json.Marshal(spec)
	maps.Copy(labels, map[string]string{
		labelService: svc.Name, labelNumber: strconv.Itoa(n), labelOneoff: "False", labelConfigHash: hash,
		labelSpec: string(specJSON),
	})
	env := make([]string, 0, len(svc.Env)+len(svc.SecretEnv))
	for _, k := range slices.Sorted(maps.Keys(svc.Env)) {
		env = append(env, k+"="+svc.Env[k])
	}
	for _, ref := range svc.SecretEnv {
		v, ok := secrets[ref.Ref]
		if !ok {
			return nil, nil, nil, fmt.Errorf("service %q: secret %q for %s was not resolved", svc.Name, ref.Ref, ref.Env)
		}
		env = append(env, ref.Env+"="+v)
	}
	cfg := &container.Config{
		Image: svc.Image, Env: env, Labels: labels, Hostname: replicaID(svc.Name, n),
		ExposedPorts: nat.PortSet{}, Healthcheck: dockerHealthcheck(svc.Health),
	}
	if len(svc.Command) > 0 {
		cfg.Entrypoint = svc.Command
	}
	if len(svc.Args) > 0 {
		cfg.Cmd = svc.Args
	}
	host := &container.HostConfig{
		PortBindings:  nat.PortMap{},
		RestartPolicy: container.RestartPolicy{Name: container.RestartPolicyMode(b.cfg.RestartPolicy)},
		Resources:     container.Resources{NanoCPUs: int64(svc.Resources.CPU * 1e9), Memory: svc.Resources.MemoryBytes},
		Init:          ptr(false),
	}
	for _, port := range svc.Ports {
		cp := nat.Port(fmt.Sprintf("%d/%s", port.Container, port.Protocol))
		cfg.ExposedPorts[cp] = struct{}{}
		if port.Host != 0 {
			host.PortBindings[cp] = append(host.PortBindings[cp], nat.PortBinding{HostIP: b.cfg.PublishAddress, HostPort: strconv.Itoa(port.Host)})
		}
	}
	for _, v := range svc.Volumes {
		host.Mounts = append(host.Mounts, mount.Mount{Type: mount.TypeVolume, Source: p.volume(v.Volume), Target: v.Path, ReadOnly: v.ReadOnly})
	}
	net := &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{
		p.network(): {Aliases: []string{svc.Name, replicaID(svc.Name, n)}},
	}}
	return cfg, host, net, nil
}

func ptr[T any](v T) *T { return &v }

// dockerHealthcheck maps a command health check to the engine's; HTTP and
// TCP checks are run by the plugin, so the engine gets none.
func dockerHealthcheck(h *core.HealthCheck) *container.HealthConfig {
	if h == nil || h.Kind != core.HealthCheckCommand {
		return nil
	}
	return &container.HealthConfig{
		Test: append([]string{"CMD"}, h.Command...), Interval: h.Interval.Std(), Timeout: h.Timeout.Std(),
		StartPeriod: h.StartPeriod.Std(), Retries: h.Retries,
	}
}

// startReplica creates and starts replica n of svc and waits until it is
// ready.
func (b *Backend) startReplica(ctx context.Context, p project, svc *core.ServiceSpec, n int, hash string, secrets sdk.SecretValues, report *sdk.Progress) error {
	cfg, host, net, err := b.containerSpec(p, svc, n, hash, secrets)
	if err != nil {
		return err
	}
	return b.runReplica(ctx, p, svc, n, cfg, host, net, report)
}

// startReplicaLike starts replica n of svc as a copy of the running replica
// tmpl, for scaling up: scale requests carry no secret values, but tmpl's
// configuration already holds them.
func (b *Backend) startReplicaLike(ctx context.Context, p project, svc *core.ServiceSpec, tmpl replica, n int, report *sdk.Progress) error {
	in, err := b.docker.ContainerInspect(ctx, tmpl.id)
	if err != nil {
		return b.engineError(fmt.Errorf("service %q: inspect %s: %w", svc.Name, tmpl.name, err))
	}
	cfg := *in.Config
	cfg.Labels = maps.Clone(in.Config.Labels)
	cfg.Labels[labelNumber] = strconv.Itoa(n)
	cfg.Hostname = replicaID(svc.Name, n)
	net := &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{
		p.network(): {Aliases: []string{svc.Name, replicaID(svc.Name, n)}},
	}}
	return b.runReplica(ctx, p, svc, n, &cfg, in.HostConfig, net, report)
}

// runReplica creates, starts and waits for one container. A replica that
// fails is removed again, and the error names the service, the replica and
// the cause, with its last output.
func (b *Backend) runReplica(ctx context.Context, p project, svc *core.ServiceSpec, n int, cfg *container.Config, host *container.HostConfig, net *network.NetworkingConfig, report *sdk.Progress) error {
	name := p.container(svc.Name, n)
	created, err := b.docker.ContainerCreate(ctx, cfg, host, net, nil, name)
	// The name may be held by a container of this deployment that the
	// engine was still creating for an apply that was killed or cancelled,
	// after this one listed the replicas: remove it once the engine shows
	// it, and try again. A container of anyone else keeps its name.
	for deadline := time.Now().Add(leftoverWait); cerrdefs.IsConflict(err) && time.Now().Before(deadline); {
		retry, removed, rerr := b.removeOwnLeftover(ctx, p, name)
		if rerr != nil {
			return rerr
		}
		if !retry {
			break
		}
		if removed {
			report.Infof(svc.Name, replicaID(svc.Name, n), "removed %s, left over by an interrupted apply", name)
		}
		created, err = b.docker.ContainerCreate(ctx, cfg, host, net, nil, name)
	}
	if err != nil {
		return b.engineError(fmt.Errorf("service %q: create container %s: %w", svc.Name, name, err))
	}
	r := replica{id: created.ID, name: name, service: svc.Name, number: n}
	if err := b.docker.ContainerStart(ctx, created.ID, container.StartOptions{}); err != nil {
		b.removeReplica(context.WithoutCancel(ctx), r)
		return b.engineError(fmt.Errorf("service %q: start %s: %w", svc.Name, name, explainStart(err)))
	}
	report.Infof(svc.Name, r.short(), "started %s from %s", name, cfg.Image)
	if err := b.waitReady(ctx, svc, r); err != nil {
		tail := b.lastLines(context.WithoutCancel(ctx), r, 5)
		b.removeReplica(context.WithoutCancel(ctx), r)
		if tail != "" {
			err = fmt.Errorf("%w; last output: %s", err, tail)
		}
		return fmt.Errorf("service %q: %w", svc.Name, err)
	}
	report.Infof(svc.Name, r.short(), "%s is ready", name)
	return nil
}

// leftoverWait bounds how long apply waits for the engine to finish creating
// a container that holds a replica's name.
const leftoverWait = 10 * time.Second

// removeOwnLeftover removes the container called name when it carries the
// labels of p's deployment; retry says whether creating the replica may be
// tried again. A name the engine still reserves for a container it is
// creating cannot be inspected yet: it waits a moment, and the caller tries
// again.
func (b *Backend) removeOwnLeftover(ctx context.Context, p project, name string) (retry, removed bool, err error) {
	in, err := b.docker.ContainerInspect(ctx, name)
	if isNotFound(err) {
		select {
		case <-ctx.Done():
			return false, false, ctx.Err()
		case <-time.After(100 * time.Millisecond):
			return true, false, nil
		}
	}
	if err != nil {
		return false, false, b.engineError(fmt.Errorf("inspect container %s: %w", name, err))
	}
	if in.Config == nil {
		return false, false, nil
	}
	for k, v := range p.labels() {
		if in.Config.Labels[k] != v {
			return false, false, nil
		}
	}
	err = b.docker.ContainerRemove(ctx, in.ID, container.RemoveOptions{Force: true})
	switch {
	case cerrdefs.IsConflict(err): // still being created, or already being removed
		select {
		case <-ctx.Done():
			return false, false, ctx.Err()
		case <-time.After(100 * time.Millisecond):
			return true, false, nil
		}
	case err != nil && !isNotFound(err):
		return false, false, b.engineError(fmt.Errorf("remove leftover container %s: %w", name, err))
	}
	return true, true, nil
}

// explainStart makes the engine's start errors name their likely cause.
func explainStart(err error) error {
	msg := err.Error()
	if strings.Contains(msg, "port is already allocated") || strings.Contains(msg, "address already in use") {
		return fmt.Errorf("a published host port is already in use: %w", err)
	}
	return err
}

// settle is how long a replica without a health check must keep running
// after start to count as ready.
const settle = 300 * time.Millisecond

// waitReady waits until r is ready: healthy by its check, or, without one,
// still running after settle. It fails as soon as the replica exits.
func (b *Backend) waitReady(ctx context.Context, svc *core.ServiceSpec, r replica) error {
	ctx, cancel := context.WithTimeout(ctx, b.cfg.readyTimeout)
	defer cancel()
	started := time.Now()
	lastProblem := "not started"
	restarts := -1 // restarts seen at the first look; more mean it crashed
	for {
		inspect, err := b.docker.ContainerInspect(ctx, r.id)
		if err != nil {
			return b.engineError(fmt.Errorf("inspect %s: %w", r.name, err))
		}
		st := inspect.State
		if restarts < 0 {
			restarts = inspect.RestartCount
		}
		switch {
		case st.Status == "exited" || st.Status == "dead" || st.Restarting || inspect.RestartCount > restarts:
			reason := fmt.Sprintf("exited with code %d", st.ExitCode)
			if st.OOMKilled {
				reason = "was killed for using too much memory (OOM)"
			}
			return fmt.Errorf("replica %s %s right after it started", r.short(), reason)
		case st.Running:
			ok, problem := b.replicaHealthy(ctx, svc, inspect)
			if ok && (svc.Health != nil || time.Since(started) >= settle) {
				return nil
			}
			if problem != "" {
				lastProblem = problem
			}
		}
		select {
		case <-ctx.Done():
			if ctx.Err() == context.DeadlineExceeded {
				return fmt.Errorf("replica %s did not become ready within %s: %s", r.short(), b.cfg.readyTimeout, lastProblem)
			}
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// removeReplica stops and removes a container, ignoring one already gone.
func (b *Backend) removeReplica(ctx context.Context, r replica) error {
	timeout := int(b.cfg.stopTimeout.Seconds())
	if err := b.docker.ContainerStop(ctx, r.id, container.StopOptions{Timeout: &timeout}); err != nil && !isNotFound(err) {
		return b.engineError(fmt.Errorf("stop %s: %w", r.name, err))
	}
	if err := b.docker.ContainerRemove(ctx, r.id, container.RemoveOptions{Force: true}); err != nil && !isNotFound(err) {
		return b.engineError(fmt.Errorf("remove %s: %w", r.name, err))
	}
	return nil
}
