package azure

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/appcontainers/armappcontainers/v3"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/sdk"
)

// Status reports each service's app: its provisioning and running state
// and the replicas of its latest revision. Services come from the state
// and from the apps tagged with the deployment.
func (b *Backend) Status(ctx context.Context, req *sdk.StatusRequest) (*sdk.StatusResponse, error) {
	if b.cl == nil {
		return nil, errNotConfigured
	}
	st, err := decodeState(req.State)
	if err != nil {
		return nil, err
	}
	found, err := b.deploymentApps(ctx, req.Deployment)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, s := range st.Services {
		names = append(names, s.Name)
	}
	for svc := range found {
		if !slices.Contains(names, svc) {
			names = append(names, svc)
		}
	}
	out := core.DeploymentStatus{Deployment: req.Deployment, ObservedAt: time.Now().UTC()}
	var healths []core.Health
	for _, svc := range names {
		ss, err := b.serviceStatus(ctx, req.Deployment, svc, st)
		if err != nil {
			return nil, err
		}
		out.Services = append(out.Services, ss)
		healths = append(healths, ss.Health)
	}
	out.Health = core.Aggregate(healths...)
	return &sdk.StatusResponse{Status: out}, nil
}

func (b *Backend) serviceStatus(ctx context.Context, ref core.DeploymentRef, svc string, st *state) (core.ServiceStatus, error) {
	name := appName(b.cfg.NamePrefix, ref, svc)
	ss := core.ServiceStatus{Name: svc}
	if spec := st.Service(svc); spec != nil {
		ss.Desired = spec.Replicas
	}
	app, err := b.cl.apps.Get(ctx, b.cfg.ResourceGroup, name, nil)
	switch {
	case isStatus(err, http.StatusNotFound):
		ss.Health, ss.Reasons = core.HealthMissing, []string{"container app " + name + " does not exist"}
		return ss, nil
	case err != nil:
		return ss, armError("read container app "+name, err)
	}
	if _, mine := owned(app.Tags, ref); !mine {
		ss.Health, ss.Reasons = core.HealthMissing, []string{"container app " + name + " belongs to another deployment"}
		return ss, nil
	}
	p := app.Properties
	if p == nil || p.Template == nil {
		ss.Health = core.HealthUnknown
		return ss, nil
	}
	if p.Template.Scale != nil && p.Template.Scale.MinReplicas != nil {
		ss.Desired = int(*p.Template.Scale.MinReplicas)
	}
	provisioning, running := deref(p.ProvisioningState), deref(p.RunningStatus)
	if running == string(armappcontainers.ContainerAppRunningStatusStopped) {
		ss.Desired = 0
	}
	if rev := p.LatestReadyRevisionName; rev != nil && *rev != "" && running != string(armappcontainers.ContainerAppRunningStatusStopped) {
		resp, err := b.cl.replicas.ListReplicas(ctx, b.cfg.ResourceGroup, name, *rev, nil)
		if err != nil && !isStatus(err, http.StatusNotFound) {
			return ss, armError("list replicas of container app "+name, err)
		}
		for _, r := range resp.Value {
			rs := replicaStatus(r)
			if rs.Health == core.HealthReady {
				ss.Ready++
			}
			ss.Replicas = append(ss.Replicas, rs)
		}
	}
	switch {
	case provisioning == string(armappcontainers.ContainerAppProvisioningStateFailed):
		ss.Health, ss.Reasons = core.HealthDown, []string{"the latest revision failed to provision"}
	case running == string(armappcontainers.ContainerAppRunningStatusStopped):
		ss.Health, ss.Reasons = core.HealthDown, []string{"container app " + name + " is stopped"}
	case provisioning != string(armappcontainers.ContainerAppProvisioningStateSucceeded):
		ss.Health, ss.Reasons = core.HealthProgressing, []string{"provisioning " + provisioning}
	case ss.Ready == ss.Desired && len(ss.Replicas) == ss.Desired:
		ss.Health = core.HealthReady
	case ss.Ready == 0 && ss.Desired > 0:
		ss.Health, ss.Reasons = core.HealthProgressing, []string{fmt.Sprintf("0 of %d replicas ready", ss.Desired)}
	default:
		ss.Health, ss.Reasons = core.HealthDegraded, []string{fmt.Sprintf("%d of %d replicas ready (%d running)", ss.Ready, ss.Desired, len(ss.Replicas))}
	}
	return ss, nil
}

func replicaStatus(r *armappcontainers.Replica) core.ReplicaStatus {
	rs := core.ReplicaStatus{Health: core.HealthProgressing}
	if r.Name != nil {
		rs.ID = *r.Name
	}
	p := r.Properties
	if p == nil {
		return rs
	}
	if p.CreatedTime != nil {
		rs.StartedAt = *p.CreatedTime
	}
	ready := len(p.Containers) > 0
	var reasons []string
	for _, c := range p.Containers {
		if c.RestartCount != nil {
			rs.Restarts += int(*c.RestartCount)
		}
		if c.Ready == nil || !*c.Ready {
			ready = false
			if c.RunningStateDetails != nil {
				reasons = append(reasons, *c.RunningStateDetails)
			}
		}
	}
	switch {
	case deref(p.RunningState) == string(armappcontainers.ContainerAppReplicaRunningStateRunning) && ready:
		rs.Health = core.HealthReady
	case deref(p.RunningState) == string(armappcontainers.ContainerAppReplicaRunningStateNotRunning):
		rs.Health = core.HealthDown
	}
	if p.RunningStateDetails != nil && *p.RunningStateDetails != "" {
		reasons = append(reasons, *p.RunningStateDetails)
	}
	if len(reasons) > 0 {
		rs.Reasons = []string{strings.Join(reasons, "; ")}
	}
	return rs
}
