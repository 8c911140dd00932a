package gcp

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"

	"cloud.google.com/go/run/apiv2/runpb"
	"google.golang.org/api/iterator"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/sdk"
)

// annotationStopped remembers, on a stopped service, the instance count
// start restores, so that it survives a lost state.
const annotationStopped = "alphaswarm.io/stopped-instances"

// The runtime operations this backend declares. Exec is not one: Cloud Run
// has no exec API.
var (
	_ sdk.Restarter          = (*Backend)(nil)
	_ sdk.StartStopper       = (*Backend)(nil)
	_ sdk.Scaler             = (*Backend)(nil)
	_ sdk.NodeHealthReporter = (*Backend)(nil)
)

// operation reads what every runtime operation needs: the state, and the
// Cloud Run services of the deployment it acts on, by service name: one
// when service is set (NotFoundError when it is not the deployment's), all
// otherwise.
func (b *Backend) operation(ctx context.Context, ref core.DeploymentRef, blob []byte, service string) (*state, target, map[string]*runpb.Service, error) {
	if b.run == nil {
		return nil, target{}, nil, errNotConfigured
	}
	st, err := decodeState(blob)
	if err != nil {
		return nil, target{}, nil, err
	}
	t := b.target(ref)
	running, err := b.listServices(ctx, t)
	if err != nil {
		return nil, t, nil, err
	}
	out := map[string]*runpb.Service{}
	for _, s := range running {
		if name := s.Labels[labelService]; service == "" || name == service {
			out[name] = s
		}
	}
	if service != "" && out[service] == nil {
		return nil, t, nil, sdk.NotFound("service %q of deployment %s", service, ref)
	}
	return st, t, out, nil
}

// change updates the fields of a Cloud Run service that paths name, with
// what edit sets on a copy of what runs, and waits for the operation.
func (b *Backend) change(ctx context.Context, what, service string, cur *runpb.Service, force bool, paths []string, edit func(*runpb.Service)) error {
	next := &runpb.Service{
		Name: cur.Name, Labels: cur.Labels, Annotations: maps.Clone(cur.Annotations),
		Template: cur.Template, Scaling: cur.Scaling, Ingress: cur.Ingress,
	}
	if next.Annotations == nil {
		next.Annotations = map[string]string{}
	}
	edit(next)
	op, err := b.run.UpdateService(ctx, &runpb.UpdateServiceRequest{
		Service: next, UpdateMask: &fieldmaskpb.FieldMask{Paths: paths}, ForceNewRevision: force,
	})
	if err != nil {
		return b.apiError(ctx, fmt.Sprintf("%s: update Cloud Run service %s", what, short(cur.Name)), err)
	}
	_, err = b.wait(ctx, what, service, op, sdk.NewProgress(nil))
	return err
}

// setInstances sets a service's manual instance count, with the stopped
// annotation when stopped is set, without it otherwise.
func (b *Backend) setInstances(ctx context.Context, what, service string, cur *runpb.Service, n int, stopped string) error {
	return b.change(ctx, what, service, cur, false, []string{"scaling", "annotations"}, func(s *runpb.Service) {
		count := int32(n)
		s.Scaling = &runpb.ServiceScaling{ScalingMode: runpb.ServiceScaling_MANUAL, ManualInstanceCount: &count}
		if stopped == "" {
			delete(s.Annotations, annotationStopped)
		} else {
			s.Annotations[annotationStopped] = stopped
		}
	})
}

// Restart starts a new revision of each service from the template it runs
// (force_new_revision): Cloud Run replaces every instance.
func (b *Backend) Restart(ctx context.Context, req *sdk.RestartRequest) (*sdk.RestartResponse, error) {
	st, _, services, err := b.operation(ctx, req.Deployment, req.State, req.Service)
	if err != nil {
		return nil, err
	}
	for _, name := range slices.Sorted(maps.Keys(services)) {
		if err := b.change(ctx, "restart service "+name, name, services[name], true, []string{"template"}, func(*runpb.Service) {}); err != nil {
			return nil, err
		}
	}
	blob, err := st.blob(nil)
	return &sdk.RestartResponse{State: blob}, err
}

// Scale sets a service's manual instance count. Scaling a stopped service
// starts it with that count.
func (b *Backend) Scale(ctx context.Context, req *sdk.ScaleRequest) (*sdk.ScaleResponse, error) {
	if req.Replicas < 0 {
		return nil, fmt.Errorf("scale service %s: %d instances: the count is 0 or more", req.Service, req.Replicas)
	}
	st, _, services, err := b.operation(ctx, req.Deployment, req.State, req.Service)
	if err != nil {
		return nil, err
	}
	if err := b.setInstances(ctx, "scale service "+req.Service, req.Service, services[req.Service], req.Replicas, ""); err != nil {
		return nil, err
	}
	delete(st.Stopped, req.Service)
	blob, err := st.blob(nil)
	return &sdk.ScaleResponse{State: blob}, err
}

// Stop sets the instance count to 0, remembering the count in the state and
// in an annotation of the service. The service keeps its URL and revisions.
func (b *Backend) Stop(ctx context.Context, req *sdk.StopRequest) (*sdk.StopResponse, error) {
	st, _, services, err := b.operation(ctx, req.Deployment, req.State, req.Service)
	if err != nil {
		return nil, err
	}
	for _, name := range slices.Sorted(maps.Keys(services)) {
		cur := services[name]
		n := int(cur.GetScaling().GetManualInstanceCount())
		if n == 0 && cur.Annotations[annotationStopped] != "" {
			continue // stopped already: keep what it remembers
		}
		st.SetStopped(name, n)
		if err := b.setInstances(ctx, "stop service "+name, name, cur, 0, strconv.Itoa(n)); err != nil {
			return nil, err
		}
	}
	blob, err := st.blob(nil)
	return &sdk.StopResponse{State: blob}, err
}

// Start restores the instance count Stop remembered: from the state, else
// from the service's annotation, else the spec's.
func (b *Backend) Start(ctx context.Context, req *sdk.StartRequest) (*sdk.StartResponse, error) {
	st, _, services, err := b.operation(ctx, req.Deployment, req.State, req.Service)
	if err != nil {
		return nil, err
	}
	for _, name := range slices.Sorted(maps.Keys(services)) {
		cur := services[name]
		n, ok := st.Stopped[name]
		if !ok {
			if v, err := strconv.Atoi(cur.Annotations[annotationStopped]); err == nil {
				n, ok = v, true
			}
		}
		if !ok {
			if cur.Annotations[annotationStopped] == "" && cur.GetScaling().GetManualInstanceCount() > 0 {
				continue // not stopped
			}
			n = specOf(cur).Replicas
			if s := st.Service(name); s != nil {
				n = s.Replicas
			}
		}
		if err := b.setInstances(ctx, "start service "+name, name, cur, n, ""); err != nil {
			return nil, err
		}
		delete(st.Stopped, name)
	}
	blob, err := st.blob(nil)
	return &sdk.StartResponse{State: blob}, err
}

// NodeHealth reports the backend's one "node", the project's region: ready
// when Cloud Run answers there, unreachable with the reason otherwise.
// Cloud Run manages its machines and shows none.
func (b *Backend) NodeHealth(ctx context.Context, _ *sdk.NodeHealthRequest) (*sdk.NodeHealthResponse, error) {
	if b.run == nil {
		return nil, errNotConfigured
	}
	node := core.NodeHealth{Name: b.cfg.parent(), Health: core.HealthReady, Reachable: true,
		Labels: map[string]string{"project": b.cfg.Project, "region": b.cfg.Region}}
	it := b.run.ListServices(ctx, &runpb.ListServicesRequest{Parent: b.cfg.parent(), PageSize: 1})
	if _, err := it.Next(); err != nil && err != iterator.Done {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		node.Health, node.Reachable = core.HealthUnknown, false
		node.Reasons = []string{b.apiError(ctx, "list Cloud Run services", err).Error()}
	}
	return &sdk.NodeHealthResponse{Nodes: []core.NodeHealth{node}}, nil
}
