package kubernetes

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/alphaswarm/controller/sdk"
)

// unschedulableGrace is how long pods may stay unschedulable before apply
// gives up: long enough for a cluster autoscaler to start, short enough
// that a quota or a selector error is reported quickly.
const unschedulableGrace = 15 * time.Second

// fatalWaiting are container waiting reasons that a rollout will not get
// past by itself.
var fatalWaiting = map[string]string{
	"ImagePullBackOff": "image pull back-off", "ErrImagePull": "image pull failed", "InvalidImageName": "invalid image name",
	"CrashLoopBackOff": "crash loop", "CreateContainerConfigError": "container configuration error", "CreateContainerError": "container creation failed",
}

// rolloutPoll paces the reads of a rollout: close to the 300ms kubectl
// rollout status takes between events, backing off a little for long ones.
var rolloutPoll = sdk.PollOptions{Interval: 200 * time.Millisecond, MaxInterval: time.Second, Multiplier: 1.5}

// waitRollout waits until the service's Deployment has rolled out: the
// new generation observed, every replica updated and available, no old
// pod left. It fails with the reason Kubernetes gives.
func (b *Backend) waitRollout(ctx context.Context, t target, service string, report *sdk.Progress) error {
	var last string
	var unschedulableSince time.Time
	opts := rolloutPoll
	opts.Timeout = b.cfg.rolloutTimeout
	err := sdk.Poll(ctx, opts, func(ctx context.Context) (bool, error) {
		d, err := b.client.AppsV1().Deployments(t.namespace).Get(ctx, t.object(service), metav1.GetOptions{})
		if err != nil {
			return false, b.apiError("read Deployment of service "+service, err)
		}
		done, progress := rolledOut(d)
		if done {
			report.Infof(service, "", "rolled out: %s", progress)
			return true, nil
		}
		if progress != last {
			report.Infof(service, "", "%s", progress)
			last = progress
		}
		if err := deploymentFailure(service, d); err != nil {
			return false, err
		}
		return false, b.podFailure(ctx, t, service, &unschedulableSince)
	})
	if errors.Is(err, sdk.ErrPollTimeout) {
		return fmt.Errorf("service %s: not rolled out within %s (rollout_timeout)", service, b.cfg.rolloutTimeout)
	}
	return err
}

// rolledOut says whether d has rolled out, and how far it is, as kubectl
// rollout status does.
func rolledOut(d *appsv1.Deployment) (bool, string) {
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	s := d.Status
	progress := fmt.Sprintf("%d of %d replicas updated, %d available", s.UpdatedReplicas, want, s.AvailableReplicas)
	switch {
	case s.ObservedGeneration < d.Generation:
		return false, "waiting for the new generation to be observed"
	case s.UpdatedReplicas < want, s.Replicas > s.UpdatedReplicas, s.AvailableReplicas < s.UpdatedReplicas:
		return false, progress
	}
	return true, progress
}

// deploymentFailure reads the Deployment's conditions: a passed progress
// deadline, or pods the ReplicaSet could not create (a quota, say).
func deploymentFailure(service string, d *appsv1.Deployment) error {
	for _, c := range d.Status.Conditions {
		switch {
		case c.Type == appsv1.DeploymentProgressing && c.Reason == "ProgressDeadlineExceeded":
			return fmt.Errorf("service %s: progress deadline exceeded: %s", service, c.Message)
		case c.Type == appsv1.DeploymentReplicaFailure && c.Status == corev1.ConditionTrue:
			return fmt.Errorf("service %s: pods cannot be created: %s", service, c.Message)
		}
	}
	return nil
}

// podFailure looks at the service's pods for reasons a rollout will not
// recover from: image pull back-off, a crash loop, or pods unschedulable
// for longer than unschedulableGrace.
func (b *Backend) podFailure(ctx context.Context, t target, service string, unschedulableSince *time.Time) error {
	pods, err := b.client.CoreV1().Pods(t.namespace).List(ctx, metav1.ListOptions{LabelSelector: t.selector(service)})
	if err != nil {
		return nil // the Deployment is the source of truth; try again
	}
	unschedulable := ""
	for _, p := range pods.Items {
		if p.DeletionTimestamp != nil {
			continue
		}
		for _, cs := range p.Status.ContainerStatuses {
			if w := cs.State.Waiting; w != nil {
				if what, fatal := fatalWaiting[w.Reason]; fatal {
					return fmt.Errorf("service %s: pod %s: %s (%s): %s", service, p.Name, what, w.Reason, w.Message)
				}
			}
		}
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable {
				unschedulable = fmt.Sprintf("pod %s is unschedulable: %s", p.Name, c.Message)
			}
		}
	}
	switch {
	case unschedulable == "":
		*unschedulableSince = time.Time{}
	case unschedulableSince.IsZero():
		*unschedulableSince = time.Now()
	case time.Since(*unschedulableSince) > unschedulableGrace:
		return fmt.Errorf("service %s: %s", service, unschedulable)
	}
	return nil
}

// apiError names what failed and makes transient failures retriable: the
// API server unreachable, overloaded or timing out. A forbidden verb says
// which credential lacks it.
func (b *Backend) apiError(what string, err error) error {
	switch {
	case apierrors.IsForbidden(err):
		return fmt.Errorf("%s: forbidden: the credential of %s lacks the permission: %w", what, b.rest.Host, err)
	case apierrors.IsUnauthorized(err):
		return fmt.Errorf("%s: the API server at %s refuses the credential (expired or revoked?): %w", what, b.rest.Host, err)
	case apierrors.IsServerTimeout(err), apierrors.IsTimeout(err), apierrors.IsTooManyRequests(err), apierrors.IsServiceUnavailable(err),
		apierrors.IsInternalError(err), isConnectionError(err):
		return &sdk.UnavailableError{Message: fmt.Sprintf("%s: %v", what, err)}
	}
	return fmt.Errorf("%s: %w", what, err)
}

func isConnectionError(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "connection refused") || strings.Contains(msg, "no such host") ||
		strings.Contains(msg, "i/o timeout") || strings.Contains(msg, "connection reset") || strings.Contains(msg, "EOF")
}
