package gcp

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"cloud.google.com/go/run/apiv2/runpb"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/sdk"
)

// Status reports each service from its Cloud Run service: reconciling,
// the terminal condition, the latest ready revision and the instance
// count. Cloud Run's API lists no instances, so the replicas are the
// instance slots of the serving revision, named <revision>-<n>: a new
// revision (an update, a restart) gives them new names.
func (b *Backend) Status(ctx context.Context, req *sdk.StatusRequest) (*sdk.StatusResponse, error) {
	if b.run == nil {
		return nil, errNotConfigured
	}
	st, err := decodeState(req.State)
	if err != nil {
		return nil, err
	}
	t := b.target(req.Deployment)
	running, err := b.listServices(ctx, t)
	if err != nil {
		return nil, err
	}
	byName := map[string]*runpb.Service{}
	for _, s := range running {
		byName[s.Labels[labelService]] = s
	}
	names := map[string]bool{}
	for _, s := range st.Services {
		names[s.Name] = true
	}
	for n := range byName {
		names[n] = true
	}
	out := core.DeploymentStatus{Deployment: req.Deployment, ObservedAt: time.Now().UTC(), Services: []core.ServiceStatus{}}
	var parts []core.Health
	for _, name := range slices.Sorted(maps.Keys(names)) {
		_, stopped := st.Stopped[name]
		if s := byName[name]; s != nil && s.Annotations[annotationStopped] != "" {
			stopped = true
		}
		ss := serviceStatus(name, byName[name], stopped)
		parts = append(parts, ss.Health)
		if ss.Health != core.HealthReady {
			out.Reasons = append(out.Reasons, fmt.Sprintf("service %s: %s", name, strings.Join(ss.Reasons, "; ")))
		}
		out.Services = append(out.Services, ss)
	}
	out.Health = core.Aggregate(parts...)
	if len(parts) == 0 {
		out.Reasons = []string{"no Cloud Run services in " + t.parent}
	}
	return &sdk.StatusResponse{Status: out}, nil
}

func serviceStatus(name string, s *runpb.Service, stopped bool) core.ServiceStatus {
	ss := core.ServiceStatus{Name: name}
	if s == nil || s.DeleteTime != nil {
		ss.Health, ss.Reasons = core.HealthMissing, []string{"no Cloud Run service"}
		return ss
	}
	ss.Desired = int(s.GetScaling().GetManualInstanceCount())
	tc := s.GetTerminalCondition()
	serving := s.LatestReadyRevision
	switch {
	case s.Reconciling:
		ss.Health, ss.Reasons = core.HealthProgressing, []string{progressOf(s)}
		serving = ""
	case tc.GetState() == runpb.Condition_CONDITION_FAILED && serving != "":
		ss.Health = core.HealthDegraded
		ss.Reasons = []string{fmt.Sprintf("revision %s failed: %s; %s still serves", short(s.LatestCreatedRevision), tc.Message, short(serving))}
	case tc.GetState() == runpb.Condition_CONDITION_FAILED:
		ss.Health, ss.Reasons = core.HealthDown, []string{fmt.Sprintf("revision %s failed: %s", short(s.LatestCreatedRevision), tc.Message)}
	case tc.GetState() != runpb.Condition_CONDITION_SUCCEEDED || serving == "":
		ss.Health, ss.Reasons = core.HealthUnknown, []string{progressOf(s)}
		serving = ""
	case ss.Desired == 0 && stopped:
		ss.Health, ss.Reasons = core.HealthDown, []string{"stopped: 0 instances"}
	default:
		ss.Health = core.HealthReady
	}
	if serving == "" {
		return ss
	}
	var since time.Time
	if tc != nil && tc.LastTransitionTime != nil {
		since = tc.LastTransitionTime.AsTime().UTC()
	}
	for i := range ss.Desired {
		ss.Replicas = append(ss.Replicas, core.ReplicaStatus{ID: fmt.Sprintf("%s-%d", short(serving), i), Health: core.HealthReady, StartedAt: since})
	}
	ss.Ready = len(ss.Replicas)
	return ss
}
