package aws

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/sdk"
)

// services resolves the request's service (all when empty) to the
// deployment's services: from the state, else from the tags. An unknown
// service is a NotFoundError.
func (b *Backend) services(ctx context.Context, n namer, st *state, service string) ([]string, error) {
	known := map[string]bool{}
	var names []string
	for _, s := range st.Services {
		known[s.Name] = true
		names = append(names, s.Name)
	}
	if len(names) == 0 {
		found, err := b.findServices(ctx, n)
		if err != nil {
			return nil, err
		}
		for s := range found {
			known[s] = true
			names = append(names, s)
		}
	}
	if service == "" {
		return names, nil
	}
	if !known[service] {
		return nil, sdk.NotFound("service %q of deployment %s", service, n.ref)
	}
	return []string{service}, nil
}

// replicas is the replica count the state remembers for svc, or ECS's.
func (b *Backend) replicas(ctx context.Context, n namer, st *state, svc string) (int, error) {
	if s := st.Service(svc); s != nil {
		return s.Replicas, nil
	}
	cur, err := b.describeService(ctx, n.service(svc))
	if err != nil || cur == nil {
		return 0, err
	}
	return int(cur.DesiredCount), nil
}

// setDesired sets the desired count of svc's ECS service.
func (b *Backend) setDesired(ctx context.Context, n namer, svc string, count int, force bool) error {
	_, err := b.clients.ecs.UpdateService(ctx, &ecs.UpdateServiceInput{
		Cluster: aws.String(b.cfg.Cluster), Service: aws.String(n.service(svc)),
		DesiredCount: aws.Int32(int32(count)), ForceNewDeployment: force,
	})
	if err != nil {
		return b.awsError(fmt.Sprintf("update ECS service of %s to %d tasks", svc, count), err)
	}
	return nil
}

// Restart starts a new deployment of the services (forceNewDeployment):
// ECS replaces every task, the new ones first.
func (b *Backend) Restart(ctx context.Context, req *sdk.RestartRequest) (*sdk.RestartResponse, error) {
	st, err := decodeState(req.State)
	if err != nil {
		return nil, err
	}
	n := b.namer(req.Deployment)
	names, err := b.services(ctx, n, st, req.Service)
	if err != nil {
		return nil, err
	}
	for _, s := range names {
		_, err := b.clients.ecs.UpdateService(ctx, &ecs.UpdateServiceInput{
			Cluster: aws.String(b.cfg.Cluster), Service: aws.String(n.service(s)), ForceNewDeployment: true,
		})
		if err != nil {
			return nil, b.awsError("restart ECS service of "+s, err)
		}
	}
	return &sdk.RestartResponse{}, nil
}

// Scale sets the desired count of one service, and remembers it in the
// state.
func (b *Backend) Scale(ctx context.Context, req *sdk.ScaleRequest) (*sdk.ScaleResponse, error) {
	st, err := decodeState(req.State)
	if err != nil {
		return nil, err
	}
	n := b.namer(req.Deployment)
	if _, err := b.services(ctx, n, st, req.Service); err != nil {
		return nil, err
	}
	if req.Replicas < 0 || req.Replicas > core.MaxReplicas {
		return nil, fmt.Errorf("scale %s: %d replicas is out of range 0..%d", req.Service, req.Replicas, core.MaxReplicas)
	}
	if err := b.setDesired(ctx, n, req.Service, req.Replicas, false); err != nil {
		return nil, err
	}
	if s := st.Service(req.Service); s != nil {
		s.Replicas = req.Replicas
	}
	delete(st.Stopped, req.Service)
	blob, err := st.blob(nil)
	return &sdk.ScaleResponse{State: blob}, err
}

// Stop sets the services' desired count to 0 and remembers the count.
func (b *Backend) Stop(ctx context.Context, req *sdk.StopRequest) (*sdk.StopResponse, error) {
	st, err := decodeState(req.State)
	if err != nil {
		return nil, err
	}
	n := b.namer(req.Deployment)
	names, err := b.services(ctx, n, st, req.Service)
	if err != nil {
		return nil, err
	}
	for _, s := range names {
		if _, stopped := st.Stopped[s]; stopped {
			continue
		}
		count, err := b.replicas(ctx, n, st, s)
		if err != nil {
			return nil, err
		}
		if err := b.setDesired(ctx, n, s, 0, false); err != nil {
			return nil, err
		}
		st.SetStopped(s, count)
	}
	blob, err := st.blob(nil)
	return &sdk.StopResponse{State: blob}, err
}

// Start gives stopped services back the count they had.
func (b *Backend) Start(ctx context.Context, req *sdk.StartRequest) (*sdk.StartResponse, error) {
	st, err := decodeState(req.State)
	if err != nil {
		return nil, err
	}
	n := b.namer(req.Deployment)
	names, err := b.services(ctx, n, st, req.Service)
	if err != nil {
		return nil, err
	}
	for _, s := range names {
		count, stopped := st.Stopped[s]
		if !stopped {
			continue
		}
		if err := b.setDesired(ctx, n, s, count, false); err != nil {
			return nil, err
		}
		delete(st.Stopped, s)
	}
	blob, err := st.blob(nil)
	return &sdk.StartResponse{State: blob}, err
}

// NodeHealth reports the cluster as the one node: Fargate has no
// instances of the operator's to report.
func (b *Backend) NodeHealth(ctx context.Context, _ *sdk.NodeHealthRequest) (*sdk.NodeHealthResponse, error) {
	out, err := b.clients.ecs.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{b.cfg.Cluster}})
	if err != nil {
		return &sdk.NodeHealthResponse{Nodes: []core.NodeHealth{{Name: b.cfg.Cluster, Health: core.HealthUnknown,
			Reasons: []string{b.awsError("describe cluster", err).Error()}}}}, nil
	}
	node := core.NodeHealth{Name: b.cfg.Cluster, Health: core.HealthMissing, Reachable: true,
		Labels: map[string]string{"region": b.cfg.Region, "launch_type": "FARGATE"}}
	if len(out.Clusters) > 0 {
		c := out.Clusters[0]
		switch aws.ToString(c.Status) {
		case "ACTIVE":
			node.Health = core.HealthReady
		case "PROVISIONING":
			node.Health = core.HealthProgressing
		default:
			node.Health = core.HealthDown
			node.Reasons = append(node.Reasons, "cluster is "+aws.ToString(c.Status))
		}
		node.Labels["running_tasks"] = fmt.Sprint(c.RunningTasksCount)
		node.Labels["pending_tasks"] = fmt.Sprint(c.PendingTasksCount)
		node.Labels["active_services"] = fmt.Sprint(c.ActiveServicesCount)
		for i, p := range c.CapacityProviders {
			node.Labels[fmt.Sprintf("capacity_provider_%d", i)] = p
		}
	} else {
		node.Reasons = append(node.Reasons, "cluster not found")
	}
	return &sdk.NodeHealthResponse{Nodes: []core.NodeHealth{node}}, nil
}

// logPoll is how follow polls CloudWatch Logs for new lines.
var logPoll = sdk.PollOptions{Interval: 500 * time.Millisecond, MaxInterval: 5 * time.Second, Multiplier: 1.5}
