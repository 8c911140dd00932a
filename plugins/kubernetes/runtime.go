package kubernetes

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/sdk"
)

// services returns the services an operation acts on: one, or all the
// deployment has.
func (b *Backend) services(ctx context.Context, t target, st *state, one string) ([]string, error) {
	var names []string
	for _, s := range st.Services {
		names = append(names, s.Name)
	}
	if len(names) == 0 {
		running, err := b.runningServices(ctx, t)
		if err != nil {
			return nil, err
		}
		for _, s := range running {
			names = append(names, s.Name)
		}
	}
	if one == "" {
		if len(names) == 0 {
			return nil, sdk.NotFound("deployment %s", t.ref)
		}
		return names, nil
	}
	for _, n := range names {
		if n == one {
			return []string{one}, nil
		}
	}
	return nil, sdk.NotFound("service %q in deployment %s", one, t.ref)
}

// Restart rolls the pods as kubectl rollout restart does: a new
// restartedAt annotation on the pod template, under its own field manager
// so the next apply keeps it.
func (b *Backend) Restart(ctx context.Context, req *sdk.RestartRequest) (*sdk.RestartResponse, error) {
	st, t, names, err := b.operation(ctx, req.Deployment, req.State, req.Service)
	if err != nil {
		return nil, err
	}
	patch := fmt.Sprintf(`{"spec":{"template":{"metadata":{"annotations":{%q:%q}}}}}`, annotationRestart, time.Now().UTC().Format(time.RFC3339Nano))
	for _, name := range names {
		if _, err := b.client.AppsV1().Deployments(t.namespace).Patch(ctx, t.object(name), types.StrategicMergePatchType, []byte(patch),
			metav1.PatchOptions{FieldManager: b.cfg.FieldManager + "-restart"}); err != nil {
			return nil, b.apiError("restart service "+name, err)
		}
	}
	if err := b.waitAll(ctx, t, names); err != nil {
		return nil, err
	}
	blob, err := st.blob(nil)
	return &sdk.RestartResponse{State: blob}, err
}

// Stop scales to zero, remembering the count in the state and in an
// annotation on the Deployment.
func (b *Backend) Stop(ctx context.Context, req *sdk.StopRequest) (*sdk.StopResponse, error) {
	st, t, names, err := b.operation(ctx, req.Deployment, req.State, req.Service)
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		current, err := b.replicas(ctx, t, name)
		if err != nil {
			return nil, err
		}
		if current == 0 {
			continue // stopped already: keep what it remembers
		}
		st.SetStopped(name, current)
		if err := b.annotateStopped(ctx, t, name, strconv.Itoa(current)); err != nil {
			return nil, err
		}
		if err := b.setReplicas(ctx, t, name, 0); err != nil {
			return nil, err
		}
	}
	if err := b.waitAll(ctx, t, names); err != nil {
		return nil, err
	}
	blob, err := st.blob(nil)
	return &sdk.StopResponse{State: blob}, err
}

// Start scales back to the count Stop remembered (the spec's when none).
func (b *Backend) Start(ctx context.Context, req *sdk.StartRequest) (*sdk.StartResponse, error) {
	st, t, names, err := b.operation(ctx, req.Deployment, req.State, req.Service)
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		n, ok := st.Stopped[name]
		if !ok {
			n = b.rememberedReplicas(ctx, t, st, name)
		}
		if err := b.setReplicas(ctx, t, name, n); err != nil {
			return nil, err
		}
		if err := b.annotateStopped(ctx, t, name, ""); err != nil {
			return nil, err
		}
		delete(st.Stopped, name)
	}
	if err := b.waitAll(ctx, t, names); err != nil {
		return nil, err
	}
	blob, err := st.blob(nil)
	return &sdk.StartResponse{State: blob}, err
}

// Scale sets a service's replica count through the /scale subresource.
func (b *Backend) Scale(ctx context.Context, req *sdk.ScaleRequest) (*sdk.ScaleResponse, error) {
	if req.Service == "" {
		return nil, errors.New("scale needs a service")
	}
	if req.Replicas < 0 || req.Replicas > core.MaxReplicas {
		return nil, fmt.Errorf("scale %s: %d replicas is outside 0..%d", req.Service, req.Replicas, core.MaxReplicas)
	}
	st, t, names, err := b.operation(ctx, req.Deployment, req.State, req.Service)
	if err != nil {
		return nil, err
	}
	if err := b.setReplicas(ctx, t, names[0], req.Replicas); err != nil {
		return nil, err
	}
	delete(st.Stopped, names[0])
	if err := b.waitAll(ctx, t, names); err != nil {
		return nil, err
	}
	blob, err := st.blob(nil)
	return &sdk.ScaleResponse{State: blob}, err
}

func (b *Backend) operation(ctx context.Context, ref core.DeploymentRef, blob []byte, service string) (*state, target, []string, error) {
	if b.client == nil {
		return nil, target{}, nil, errors.New("backend is not configured")
	}
	st, err := decodeState(blob)
	if err != nil {
		return nil, target{}, nil, err
	}
	t := b.target(ref, st)
	names, err := b.services(ctx, t, st, service)
	return st, t, names, err
}

func (b *Backend) replicas(ctx context.Context, t target, name string) (int, error) {
	s, err := b.client.AppsV1().Deployments(t.namespace).GetScale(ctx, t.object(name), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return 0, sdk.NotFound("service %q in deployment %s", name, t.ref)
	}
	if err != nil {
		return 0, b.apiError("read the scale of service "+name, err)
	}
	return int(s.Spec.Replicas), nil
}

func (b *Backend) setReplicas(ctx context.Context, t target, name string, n int) error {
	scale := &autoscalingv1.Scale{ObjectMeta: metav1.ObjectMeta{Name: t.object(name), Namespace: t.namespace}, Spec: autoscalingv1.ScaleSpec{Replicas: int32(n)}}
	_, err := b.client.AppsV1().Deployments(t.namespace).UpdateScale(ctx, t.object(name), scale, metav1.UpdateOptions{FieldManager: b.cfg.FieldManager + "-scale"})
	if apierrors.IsNotFound(err) {
		return sdk.NotFound("service %q in deployment %s", name, t.ref)
	}
	if err != nil {
		return b.apiError(fmt.Sprintf("scale service %s to %d", name, n), err)
	}
	return nil
}

// annotateStopped sets (or, with "", removes) the remembered count.
func (b *Backend) annotateStopped(ctx context.Context, t target, name, value string) error {
	v := "null"
	if value != "" {
		v = strconv.Quote(value)
	}
	patch := fmt.Sprintf(`{"metadata":{"annotations":{%q:%s}}}`, annotationStopped, v)
	_, err := b.client.AppsV1().Deployments(t.namespace).Patch(ctx, t.object(name), types.MergePatchType, []byte(patch),
		metav1.PatchOptions{FieldManager: b.cfg.FieldManager + "-stop"})
	if err != nil {
		return b.apiError("record the stop of service "+name, err)
	}
	return nil
}

// rememberedReplicas is the count to start with when the state does not
// say: the Deployment's annotation, else the spec's count.
func (b *Backend) rememberedReplicas(ctx context.Context, t target, st *state, name string) int {
	if d, err := b.client.AppsV1().Deployments(t.namespace).Get(ctx, t.object(name), metav1.GetOptions{}); err == nil {
		if n, err := strconv.Atoi(d.Annotations[annotationStopped]); err == nil {
			return n
		}
	}
	if s := st.Service(name); s != nil {
		return s.Replicas
	}
	return 1
}

func (b *Backend) waitAll(ctx context.Context, t target, names []string) error {
	for _, name := range names {
		if err := b.waitRollout(ctx, t, name, nil); err != nil {
			return err
		}
	}
	return nil
}
