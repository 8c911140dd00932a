package kubernetes

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/sdk"
)

// Status reports each service from its Deployment's conditions and its
// pods' readiness, with the reasons Kubernetes gives.
func (b *Backend) Status(ctx context.Context, req *sdk.StatusRequest) (*sdk.StatusResponse, error) {
	if b.client == nil {
		return nil, errors.New("backend is not configured")
	}
	st, err := decodeState(req.State)
	if err != nil {
		return nil, err
	}
	t := b.target(req.Deployment, st)
	list := metav1.ListOptions{LabelSelector: t.selector("")}
	deps, err := b.client.AppsV1().Deployments(t.namespace).List(ctx, list)
	if err != nil && !apierrors.IsNotFound(err) {
		return nil, b.apiError("list Deployments", err)
	}
	pods, err := b.client.CoreV1().Pods(t.namespace).List(ctx, list)
	if err != nil && !apierrors.IsNotFound(err) {
		return nil, b.apiError("list pods", err)
	}
	byName := map[string]*appsv1.Deployment{}
	if deps != nil {
		for i := range deps.Items {
			byName[deps.Items[i].Labels[labelName]] = &deps.Items[i]
		}
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
		ss := serviceStatus(name, st, byName[name], podsOf(pods, name))
		parts = append(parts, ss.Health)
		if ss.Health != core.HealthReady {
			out.Reasons = append(out.Reasons, fmt.Sprintf("service %s: %s", name, strings.Join(ss.Reasons, "; ")))
		}
		out.Services = append(out.Services, ss)
	}
	out.Health = core.Aggregate(parts...)
	if len(parts) == 0 {
		out.Health, out.Reasons = core.HealthMissing, []string{"no Deployments in namespace " + t.namespace}
	}
	return &sdk.StatusResponse{Status: out}, nil
}

func podsOf(pods *corev1.PodList, service string) []corev1.Pod {
	var out []corev1.Pod
	if pods == nil {
		return nil
	}
	for _, p := range pods.Items {
		if p.Labels[labelName] == service && p.DeletionTimestamp == nil {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b corev1.Pod) int { return strings.Compare(a.Name, b.Name) })
	return out
}

func serviceStatus(name string, st *state, d *appsv1.Deployment, pods []corev1.Pod) core.ServiceStatus {
	ss := core.ServiceStatus{Name: name}
	if d == nil {
		ss.Health, ss.Reasons = core.HealthMissing, []string{"no Deployment"}
		return ss
	}
	if d.Spec.Replicas != nil {
		ss.Desired = int(*d.Spec.Replicas)
	}
	for _, p := range pods {
		rs := replicaStatus(p)
		if rs.Health == core.HealthReady {
			ss.Ready++
		}
		ss.Replicas = append(ss.Replicas, rs)
	}
	if remembered, stopped := st.Stopped[name]; stopped && ss.Desired == 0 {
		ss.Desired = remembered
		ss.Health, ss.Reasons = core.HealthDown, []string{"stopped"}
		return ss
	}
	done, progress := rolledOut(d)
	failure := deploymentFailure(name, d)
	switch {
	case failure != nil:
		ss.Health, ss.Reasons = core.HealthDown, []string{failure.Error()}
	case done && ss.Ready >= ss.Desired:
		ss.Health = core.HealthReady
	case ss.Ready == 0 && ss.Desired > 0:
		ss.Health, ss.Reasons = core.HealthDown, append([]string{progress}, replicaReasons(ss.Replicas)...)
	case ss.Ready < ss.Desired:
		ss.Health, ss.Reasons = core.HealthDegraded, append([]string{progress}, replicaReasons(ss.Replicas)...)
	default:
		ss.Health, ss.Reasons = core.HealthProgressing, []string{progress}
	}
	return ss
}

func replicaReasons(rs []core.ReplicaStatus) []string {
	var out []string
	for _, r := range rs {
		for _, reason := range r.Reasons {
			out = append(out, r.ID+": "+reason)
		}
	}
	return out
}

// replicaStatus reads a pod: ready when its Ready condition is true, with
// the waiting or termination reasons of its containers otherwise.
func replicaStatus(p corev1.Pod) core.ReplicaStatus {
	rs := core.ReplicaStatus{ID: p.Name, Health: core.HealthProgressing}
	if p.Status.StartTime != nil {
		rs.StartedAt = p.Status.StartTime.UTC()
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
			rs.Health = core.HealthReady
		}
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse {
			rs.Reasons = append(rs.Reasons, "unschedulable: "+c.Message)
		}
	}
	for _, cs := range p.Status.ContainerStatuses {
		rs.Restarts += int(cs.RestartCount)
		switch {
		case cs.State.Waiting != nil:
			rs.Reasons = append(rs.Reasons, cs.State.Waiting.Reason+": "+cs.State.Waiting.Message)
			if _, fatal := fatalWaiting[cs.State.Waiting.Reason]; fatal {
				rs.Health = core.HealthDown
			}
		case cs.State.Terminated != nil:
			code := int(cs.State.Terminated.ExitCode)
			rs.ExitCode = &code
			rs.Health = core.HealthDown
			rs.Reasons = append(rs.Reasons, fmt.Sprintf("exited with %d: %s", code, cs.State.Terminated.Reason))
		}
	}
	if p.Status.Phase == corev1.PodFailed {
		rs.Health = core.HealthDown
	}
	return rs
}

// NodeHealth reports every node from its conditions and allocatable
// resources.
func (b *Backend) NodeHealth(ctx context.Context, _ *sdk.NodeHealthRequest) (*sdk.NodeHealthResponse, error) {
	if b.client == nil {
		return nil, errors.New("backend is not configured")
	}
	nodes, err := b.client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, b.apiError("list nodes", err)
	}
	out := &sdk.NodeHealthResponse{}
	for _, n := range nodes.Items {
		out.Nodes = append(out.Nodes, nodeHealth(n))
	}
	return out, nil
}

func nodeHealth(n corev1.Node) core.NodeHealth {
	h := core.NodeHealth{Name: n.Name, Health: core.HealthUnknown, Version: n.Status.NodeInfo.KubeletVersion, Labels: n.Labels,
		CPUs: n.Status.Allocatable.Cpu().AsApproximateFloat64(), MemoryBytes: n.Status.Allocatable.Memory().Value()}
	for _, c := range n.Status.Conditions {
		switch {
		case c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue:
			h.Health, h.Reachable = core.HealthReady, true
		case c.Type == corev1.NodeReady:
			h.Health = core.HealthDown
			h.Reasons = append(h.Reasons, fmt.Sprintf("not ready: %s %s", c.Reason, c.Message))
		case c.Status == corev1.ConditionTrue: // MemoryPressure, DiskPressure, PIDPressure, NetworkUnavailable
			h.Reasons = append(h.Reasons, fmt.Sprintf("%s: %s", c.Type, c.Message))
		}
	}
	if h.Health == core.HealthReady && len(h.Reasons) > 0 {
		h.Health = core.HealthDegraded
	}
	if n.Spec.Unschedulable {
		h.Reasons = append(h.Reasons, "cordoned")
	}
	return h
}
