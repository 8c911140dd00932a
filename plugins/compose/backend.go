package compose

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/client"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/sdk"
)

// Backend runs deployments on one Docker Engine. Its fields are set once by
// Configure; it keeps no state between calls.
type Backend struct {
	cfg    config
	docker *client.Client
}

// Interface guards: compose declares every capability.
var (
	_ sdk.Backend            = (*Backend)(nil)
	_ sdk.Restarter          = (*Backend)(nil)
	_ sdk.StartStopper       = (*Backend)(nil)
	_ sdk.Scaler             = (*Backend)(nil)
	_ sdk.LogStreamer        = (*Backend)(nil)
	_ sdk.Executor           = (*Backend)(nil)
	_ sdk.MetricsReader      = (*Backend)(nil)
	_ sdk.NodeHealthReporter = (*Backend)(nil)
)

// New returns an unconfigured backend.
func New() *Backend { return &Backend{} }

// Validate reports what a single engine cannot run as written.
func (b *Backend) Validate(_ context.Context, req *sdk.ValidateRequest) (*sdk.ValidateResponse, error) {
	var diags []sdk.Diagnostic
	for _, s := range req.Deployment.Services {
		for _, p := range s.Ports {
			if p.Host != 0 && s.Replicas > 1 {
				diags = append(diags, sdk.Diagnostic{
					Severity: sdk.SeverityError, Path: fmt.Sprintf("service.%s.port.%s.host", s.Name, p.Name),
					Summary: fmt.Sprintf("host port %d cannot be published by %d replicas on one engine", p.Host, s.Replicas),
					Detail:  "Publish it from one replica, or leave host unset and reach the replicas on the project network.",
				})
			}
		}
	}
	return &sdk.ValidateResponse{Diagnostics: diags}, nil
}

// Plan compares the spec with what the engine runs: the services of the
// project's containers, read from their labels, with as many replicas as
// there are containers. It needs no state, so a plan made before the host
// has any (or after it lost it) is still right.
func (b *Backend) Plan(ctx context.Context, req *sdk.PlanRequest) (*sdk.PlanResponse, error) {
	if b.docker == nil {
		return nil, fmt.Errorf("backend is not configured")
	}
	st, err := decodeState(req.PriorState, b.legacyProject(req.Deployment.Ref()))
	if err != nil {
		return nil, err
	}
	replicas, err := b.listReplicas(ctx, b.project(req.Deployment.Ref(), st))
	if err != nil {
		return nil, err
	}
	resp := &sdk.PlanResponse{Services: sdk.DiffServices(runningServices(replicas), req.Deployment.Services)}
	for _, s := range req.Deployment.Services {
		if publishesHostPort(&s) {
			resp.Compatibility = append(resp.Compatibility, sdk.CompatibilityNote{
				Service: s.Name, Field: "port", Level: sdk.CompatApproximated,
				Detail: "a service that publishes a host port is updated stop-first: the new replica cannot bind the port while the old one holds it",
			})
		}
	}
	return resp, nil
}

// runningServices rebuilds the specs the engine runs from the newest
// container of each service.
func runningServices(replicas map[string][]replica) []core.ServiceSpec {
	var out []core.ServiceSpec
	for _, name := range slices.Sorted(maps.Keys(replicas)) {
		rs := replicas[name]
		var s core.ServiceSpec
		if err := json.Unmarshal([]byte(rs[len(rs)-1].spec), &s); err != nil || s.Name != name {
			s = core.ServiceSpec{Name: name} // made by an older plugin: everything differs
		}
		s.Replicas = len(rs)
		out = append(out, s)
	}
	return out
}

// Destroy removes the project's containers and network, and its volumes
// when asked to remove data, finding them by label, and waits until the
// engine no longer lists them. Without a state that names the project, it
// destroys the deployment's objects under either name a project of it can
// have had.
func (b *Backend) Destroy(ctx context.Context, req *sdk.DestroyRequest) (*sdk.DestroyResponse, error) {
	if b.docker == nil {
		return nil, fmt.Errorf("backend is not configured")
	}
	st, err := decodeState(req.State, b.legacyProject(req.Deployment))
	projects := []project{b.project(req.Deployment, st)}
	if err != nil || len(req.State) == 0 {
		projects = []project{b.project(req.Deployment, nil), {name: b.legacyProject(req.Deployment), ref: req.Deployment}}
	}
	for _, p := range projects {
		if err := b.destroyProject(ctx, p, req.RemoveData); err != nil {
			return nil, err
		}
	}
	return &sdk.DestroyResponse{}, nil
}

func (b *Backend) destroyProject(ctx context.Context, p project, removeData bool) error {
	replicas, err := b.listReplicas(ctx, p)
	if err != nil {
		return err
	}
	for _, rs := range replicas {
		for _, r := range rs {
			if err := b.removeReplica(ctx, r); err != nil {
				return err
			}
		}
	}
	nets, err := b.docker.NetworkList(ctx, network.ListOptions{Filters: p.filter()})
	if err != nil {
		return b.engineError(fmt.Errorf("list networks of %s: %w", p.name, err))
	}
	for _, n := range nets {
		if err := b.docker.NetworkRemove(ctx, n.ID); err != nil && !isNotFound(err) {
			return b.engineError(fmt.Errorf("remove network %s: %w", n.Name, err))
		}
	}
	if removeData {
		vols, err := b.docker.VolumeList(ctx, volume.ListOptions{Filters: p.filter()})
		if err != nil {
			return b.engineError(fmt.Errorf("list volumes of %s: %w", p.name, err))
		}
		for _, v := range vols.Volumes {
			if err := b.docker.VolumeRemove(ctx, v.Name, true); err != nil && !isNotFound(err) {
				return b.engineError(fmt.Errorf("remove volume %s: %w", v.Name, err))
			}
		}
	}
	return b.waitGone(ctx, p)
}

// waitGone waits until the engine lists no container of the project,
// removing any that appear meanwhile: a create that a cancelled apply had
// in flight still completes on the engine after the first removal pass.
func (b *Backend) waitGone(ctx context.Context, p project) error {
	var lastErr error // a removal already under way fails; the next round sees it done
	for {
		left, err := b.listReplicas(ctx, p)
		if err != nil {
			return err
		}
		if len(left) == 0 {
			return nil
		}
		for _, rs := range left {
			for _, r := range rs {
				if err := b.removeReplica(ctx, r); err != nil {
					lastErr = err
				}
			}
		}
		select {
		case <-ctx.Done():
			if lastErr != nil {
				return fmt.Errorf("destroy %s: containers still listed (last removal error: %v): %w", p.name, lastErr, ctx.Err())
			}
			return fmt.Errorf("destroy %s: containers still listed: %w", p.name, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}
