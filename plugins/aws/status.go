package aws

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/sdk"
)

// Status reports each service from its ECS service and its tasks: a
// replica per task, ready when it runs and is healthy (or has no health
// check). Services come from the state, and from their tags when the state
// is lost.
func (b *Backend) Status(ctx context.Context, req *sdk.StatusRequest) (*sdk.StatusResponse, error) {
	st, err := decodeState(req.State)
	if err != nil {
		return nil, err
	}
	n := b.namer(req.Deployment)
	services := map[string]*ecstypes.Service{}
	if len(st.Services) > 0 {
		byName := map[string]string{}
		var names []string
		for _, s := range st.Services {
			byName[n.service(s.Name)] = s.Name
			names = append(names, n.service(s.Name))
			services[s.Name] = nil
		}
		for chunk := range slices.Chunk(names, 10) {
			out, err := b.clients.ecs.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(b.cfg.Cluster), Services: chunk})
			if err != nil {
				return nil, b.awsError("describe ECS services", err)
			}
			for i := range out.Services {
				services[byName[aws.ToString(out.Services[i].ServiceName)]] = &out.Services[i]
			}
		}
	} else {
		found, err := b.findServices(ctx, n)
		if err != nil {
			return nil, err
		}
		for name, svc := range found {
			services[name] = &svc
		}
	}
	status := core.DeploymentStatus{Deployment: req.Deployment, ObservedAt: time.Now().UTC()}
	var healths []core.Health
	for _, name := range slices.Sorted(maps.Keys(services)) {
		ss, err := b.serviceStatus(ctx, name, services[name])
		if err != nil {
			return nil, err
		}
		if _, stopped := st.Stopped[name]; stopped && ss.Health != core.HealthMissing && ss.Ready == 0 {
			ss.Health, ss.Reasons = core.HealthDown, []string{"stopped"}
		}
		healths = append(healths, ss.Health)
		for _, r := range ss.Reasons {
			status.Reasons = append(status.Reasons, "service "+name+": "+r)
		}
		status.Services = append(status.Services, ss)
	}
	status.Health = core.Aggregate(healths...)
	return &sdk.StatusResponse{Status: status}, nil
}

// describeAny returns the ECS service name whatever its status, nil when
// ECS does not know it.
func (b *Backend) describeAny(ctx context.Context, name string) (*ecstypes.Service, error) {
	out, err := b.clients.ecs.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(b.cfg.Cluster), Services: []string{name}})
	if err != nil {
		return nil, b.awsError("describe ECS service "+name, err)
	}
	if len(out.Services) == 0 {
		return nil, nil
	}
	return &out.Services[0], nil
}

func (b *Backend) serviceStatus(ctx context.Context, name string, svc *ecstypes.Service) (core.ServiceStatus, error) {
	ss := core.ServiceStatus{Name: name, Health: core.HealthMissing}
	if svc == nil || aws.ToString(svc.Status) == "INACTIVE" {
		return ss, nil
	}
	ss.Desired = int(svc.DesiredCount)
	var arns []string
	p := ecs.NewListTasksPaginator(b.clients.ecs, &ecs.ListTasksInput{Cluster: aws.String(b.cfg.Cluster), ServiceName: svc.ServiceName})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return ss, b.awsError("list tasks of "+name, err)
		}
		arns = append(arns, page.TaskArns...)
	}
	var tasks []ecstypes.Task
	for chunk := range slices.Chunk(arns, 100) {
		out, err := b.clients.ecs.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(b.cfg.Cluster), Tasks: chunk})
		if err != nil {
			return ss, b.awsError("describe tasks of "+name, err)
		}
		tasks = append(tasks, out.Tasks...)
	}
	slices.SortFunc(tasks, func(a, b ecstypes.Task) int { return strings.Compare(aws.ToString(a.TaskArn), aws.ToString(b.TaskArn)) })
	for _, t := range tasks {
		r := core.ReplicaStatus{ID: taskID(aws.ToString(t.TaskArn))}
		if t.StartedAt != nil {
			r.StartedAt = t.StartedAt.UTC()
		}
		switch last := aws.ToString(t.LastStatus); {
		case last == "RUNNING" && t.HealthStatus != ecstypes.HealthStatusUnhealthy:
			r.Health = core.HealthReady
			ss.Ready++
		case last == "RUNNING":
			r.Health = core.HealthDown
			r.Reasons = append(r.Reasons, "container health check failing")
		case last == "STOPPED" || last == "DEACTIVATING" || last == "STOPPING" || last == "DEPROVISIONING":
			r.Health = core.HealthDown
			if t.StoppedReason != nil {
				r.Reasons = append(r.Reasons, aws.ToString(t.StoppedReason))
			}
		default:
			r.Health = core.HealthProgressing
			r.Reasons = append(r.Reasons, "task is "+strings.ToLower(last))
		}
		for _, c := range t.Containers {
			if c.ExitCode != nil {
				code := int(*c.ExitCode)
				r.ExitCode = &code
			}
		}
		ss.Replicas = append(ss.Replicas, r)
	}
	rolling := len(svc.Deployments) > 1 || (len(svc.Deployments) == 1 && svc.Deployments[0].RolloutState == ecstypes.DeploymentRolloutStateInProgress)
	switch {
	case aws.ToString(svc.Status) == "DRAINING":
		ss.Health = core.HealthProgressing
		ss.Reasons = append(ss.Reasons, "service is being deleted")
	case ss.Desired == 0 && len(ss.Replicas) == 0:
		ss.Health = core.HealthReady
	case ss.Ready == ss.Desired && len(ss.Replicas) == ss.Desired && !rolling:
		ss.Health = core.HealthReady
	case rolling || ss.Ready < ss.Desired && ss.Ready > 0 || len(ss.Replicas) != ss.Desired:
		ss.Health = core.HealthProgressing
		ss.Reasons = append(ss.Reasons, fmt.Sprintf("%d of %d tasks ready", ss.Ready, ss.Desired))
	default:
		ss.Health = core.HealthDown
		ss.Reasons = append(ss.Reasons, fmt.Sprintf("%d of %d tasks ready", ss.Ready, ss.Desired))
	}
	if ss.Health != core.HealthReady && aws.ToString(svc.Status) == "ACTIVE" {
		for _, d := range svc.Deployments {
			if d.RolloutState == ecstypes.DeploymentRolloutStateFailed {
				ss.Reasons = append(ss.Reasons, "rollout failed: "+aws.ToString(d.RolloutStateReason))
			}
		}
		if r := b.stoppedReasons(ctx, *svc, aws.ToString(svc.TaskDefinition)); r != "" {
			ss.Reasons = append(ss.Reasons, strings.TrimPrefix(r, ": "))
		}
	}
	return ss, nil
}

// taskID is the last part of a task ARN.
func taskID(arn string) string { return arn[strings.LastIndex(arn, "/")+1:] }

func msTime(ms int64) time.Time { return time.UnixMilli(ms).UTC() }
