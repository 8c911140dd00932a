package kubernetes

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/sdk"
)

// Validate reports what a Kubernetes cluster cannot run as written. It
// reaches no cluster: with req.Config (swarmctl validate, offline) it
// checks against that configuration instead of the process's.
func (b *Backend) Validate(_ context.Context, req *sdk.ValidateRequest) (*sdk.ValidateResponse, error) {
	cfg := b.cfg
	if req.Config != nil {
		c, err := parseConfig(req.Config, nil)
		if err != nil {
			return nil, err
		}
		cfg = c
	}
	var diags []sdk.Diagnostic
	for _, s := range req.Deployment.Services {
		if len(s.Ports) > 0 && (s.Name[0] < 'a' || s.Name[0] > 'z') {
			diags = append(diags, sdk.Diagnostic{Severity: sdk.SeverityError, Path: "service." + s.Name,
				Summary: fmt.Sprintf("service %q has ports, and a Kubernetes Service name must start with a letter", s.Name)})
		}
	}
	t := cfg.target(req.Deployment.Ref(), nil)
	if t.shared && !isDNSLabel(t.namespace) {
		diags = append(diags, sdk.Diagnostic{Severity: sdk.SeverityError, Path: "",
			Summary: fmt.Sprintf("the backend's namespace template gives %q for this deployment, which is not a valid namespace name", t.namespace)})
	}
	if !t.shared && !strings.HasPrefix(t.namespace, req.Deployment.Tenant+"-"+req.Deployment.Environment+"-"+req.Deployment.Name+"-") {
		diags = append(diags, sdk.Diagnostic{Severity: sdk.SeverityWarning, Path: "",
			Summary: fmt.Sprintf("the namespace name is shortened to %s", t.namespace)})
	}
	return &sdk.ValidateResponse{Diagnostics: diags}, nil
}

// Plan compares the spec with the Deployments the cluster runs, read from
// their spec annotations, so it needs no state.
func (b *Backend) Plan(ctx context.Context, req *sdk.PlanRequest) (*sdk.PlanResponse, error) {
	if b.client == nil {
		return nil, errors.New("backend is not configured")
	}
	st, err := decodeState(req.PriorState)
	if err != nil {
		return nil, err
	}
	t := b.target(req.Deployment.Ref(), st)
	running, err := b.runningServices(ctx, t)
	if err != nil {
		return nil, err
	}
	resp := &sdk.PlanResponse{Services: sdk.DiffServices(running, req.Deployment.Services)}
	for _, s := range req.Deployment.Services {
		for _, p := range s.Ports {
			if p.Host != 0 {
				resp.Compatibility = append(resp.Compatibility, sdk.CompatibilityNote{Service: s.Name, Field: "port." + p.Name + ".host",
					Level: sdk.CompatApproximated, Detail: "published as a LoadBalancer Service on that port; the cluster needs a load balancer controller"})
			}
		}
		if len(s.Volumes) > 0 {
			resp.Compatibility = append(resp.Compatibility, sdk.CompatibilityNote{Service: s.Name, Field: "volume",
				Level: sdk.CompatApproximated, Detail: "each volume is a " + volumeSize + " ReadWriteOnce PersistentVolumeClaim of the default StorageClass"})
		}
	}
	return resp, nil
}

// runningServices reads the services the cluster runs for t.
func (b *Backend) runningServices(ctx context.Context, t target) ([]core.ServiceSpec, error) {
	list, err := b.client.AppsV1().Deployments(t.namespace).List(ctx, metav1.ListOptions{LabelSelector: t.selector("")})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, b.apiError("list Deployments", err)
	}
	var out []core.ServiceSpec
	for _, d := range list.Items {
		var s core.ServiceSpec
		if json.Unmarshal([]byte(d.Annotations[annotationSpec]), &s) != nil || s.Name == "" {
			s = core.ServiceSpec{Name: d.Labels[labelName]}
		}
		if d.Spec.Replicas != nil {
			s.Replicas = int(*d.Spec.Replicas)
		}
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b core.ServiceSpec) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// Apply makes the cluster run the deployment: the namespace, then each
// level of the dependency order (services of one level in parallel) applied
// and rolled out before the next, then removal of dropped services.
func (b *Backend) Apply(ctx context.Context, req *sdk.ApplyRequest, progress sdk.ProgressFunc) (*sdk.ApplyResponse, error) {
	if b.client == nil {
		return nil, errors.New("backend is not configured")
	}
	st, err := decodeState(req.PriorState)
	if err != nil {
		return nil, err
	}
	t := b.target(req.Deployment.Ref(), st)
	report := sdk.NewProgress(progress)
	err = b.converge(ctx, t, &req.Deployment, req.Secrets, st, report)
	// The state records the spec even after a failure: labels let destroy
	// find whatever was created, and a retry converges again.
	st.AppliedServices = sdk.AppliedServices{Services: req.Deployment.Services}
	if err == nil {
		report.Infof("", "", "deployment %s rolled out in namespace %s: %d services", t.ref.Name, t.namespace, len(req.Deployment.Services))
	}
	blob, err := st.blob(err)
	return &sdk.ApplyResponse{State: blob}, err
}

func (b *Backend) converge(ctx context.Context, t target, spec *core.DeploymentSpec, secrets sdk.SecretValues, st *state, report *sdk.Progress) error {
	if err := b.ensureNamespace(ctx, t, report); err != nil {
		return err
	}
	for _, level := range spec.StartLevels() {
		var wg sync.WaitGroup
		errs := make([]error, len(level))
		for i, name := range level {
			svc := spec.Service(name)
			wg.Go(func() { errs[i] = b.applyService(ctx, t, svc, secrets, st.Salt(), report) })
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return err
		}
	}
	return b.removeDropped(ctx, t, spec, report)
}

// ensureNamespace creates the deployment's namespace, labelled with its
// tenant and environment; a namespace apply did not create is refused. A
// configured namespace is not read: a credential confined to it need not
// see namespaces.
func (b *Backend) ensureNamespace(ctx context.Context, t target, report *sdk.Progress) error {
	if t.shared {
		return nil
	}
	ns, err := b.client.CoreV1().Namespaces().Get(ctx, t.namespace, metav1.GetOptions{})
	switch {
	case err == nil:
		if ns.Labels[labelManagedBy] != managedBy || ns.Labels[labelTenant] != t.ref.Tenant || ns.Labels[labelDeployment] != t.ref.Name {
			return fmt.Errorf("namespace %s exists and is not this deployment's (it lacks the labels %s): choose another namespace or remove it", t.namespace, t.selector(""))
		}
		return nil
	case !apierrors.IsNotFound(err):
		return b.apiError("read namespace "+t.namespace, err)
	}
	labels := t.labels("")
	labels["kubernetes.io/metadata.name"] = t.namespace
	_, err = b.client.CoreV1().Namespaces().Apply(ctx, corev1ac.Namespace(t.namespace).WithLabels(labels), b.applyOptions())
	if err != nil {
		return b.apiError("create namespace "+t.namespace, err)
	}
	report.Infof("", "", "created namespace %s", t.namespace)
	return nil
}

func (b *Backend) applyOptions() metav1.ApplyOptions {
	return metav1.ApplyOptions{FieldManager: b.cfg.FieldManager, Force: true}
}

// applyService applies a service's Secret, claims, Deployment and
// Service, then waits for its rollout.
func (b *Backend) applyService(ctx context.Context, t target, svc *core.ServiceSpec, secrets sdk.SecretValues, salt sdk.Salt, report *sdk.Progress) error {
	opts := b.applyOptions()
	if len(svc.SecretEnv) > 0 {
		sec, err := secret(t, svc, secrets)
		if err != nil {
			return err
		}
		if _, err := b.client.CoreV1().Secrets(t.namespace).Apply(ctx, sec, opts); err != nil {
			return b.apiError("apply Secret of service "+svc.Name, err)
		}
	}
	for _, v := range svc.Volumes {
		if _, err := b.client.CoreV1().PersistentVolumeClaims(t.namespace).Apply(ctx, claim(t, v.Volume), opts); err != nil {
			return b.apiError(fmt.Sprintf("apply volume %s of service %s", v.Volume, svc.Name), err)
		}
	}
	d, err := b.client.AppsV1().Deployments(t.namespace).Apply(ctx, b.deployment(t, svc, secretsHash(salt, svc, secrets)), opts)
	if err != nil {
		return b.apiError("apply Deployment of service "+svc.Name, err)
	}
	if len(svc.Ports) > 0 {
		if _, err := b.client.CoreV1().Services(t.namespace).Apply(ctx, service(t, svc), opts); err != nil {
			return b.apiError("apply Service of service "+svc.Name, err)
		}
	} else if err := b.client.CoreV1().Services(t.namespace).Delete(ctx, t.object(svc.Name), metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return b.apiError("delete the Service of service "+svc.Name, err)
	}
	report.Infof(svc.Name, "", "applied Deployment %s (generation %d), %d replicas", d.Name, d.Generation, svc.Replicas)
	return b.waitRollout(ctx, t, svc.Name, report)
}

// removeDropped deletes the objects of services the spec no longer has.
func (b *Backend) removeDropped(ctx context.Context, t target, spec *core.DeploymentSpec, report *sdk.Progress) error {
	running, err := b.runningServices(ctx, t)
	if err != nil {
		return err
	}
	for _, s := range running {
		if spec.Service(s.Name) != nil {
			continue
		}
		if err := b.deleteService(ctx, t, s.Name); err != nil {
			return err
		}
		report.Infof(s.Name, "", "removed service %s", s.Name)
	}
	return nil
}

func (b *Backend) deleteService(ctx context.Context, t target, name string) error {
	bg := metav1.DeletePropagationBackground
	del := metav1.DeleteOptions{PropagationPolicy: &bg}
	for what, err := range map[string]error{
		"Deployment": b.client.AppsV1().Deployments(t.namespace).Delete(ctx, t.object(name), del),
		"Service":    b.client.CoreV1().Services(t.namespace).Delete(ctx, t.object(name), del),
		"Secret":     b.client.CoreV1().Secrets(t.namespace).Delete(ctx, t.secret(name), del),
	} {
		if err != nil && !apierrors.IsNotFound(err) {
			return b.apiError(fmt.Sprintf("delete the %s of service %s", what, name), err)
		}
	}
	return nil
}

// Destroy deletes what apply created, by label, and waits until the
// cluster no longer lists it; the namespace goes too when apply made it.
func (b *Backend) Destroy(ctx context.Context, req *sdk.DestroyRequest) (*sdk.DestroyResponse, error) {
	if b.client == nil {
		return nil, errors.New("backend is not configured")
	}
	st, err := decodeState(req.State)
	if err != nil {
		st = nil // destroy anyway: deletion goes by label
	}
	t := b.target(req.Deployment, st)
	bg := metav1.DeletePropagationBackground
	del := metav1.DeleteOptions{PropagationPolicy: &bg}
	list := metav1.ListOptions{LabelSelector: t.selector("")}
	ns := t.namespace
	deletes := map[string]func() error{
		"Deployments": func() error { return b.client.AppsV1().Deployments(ns).DeleteCollection(ctx, del, list) },
		"Secrets":     func() error { return b.client.CoreV1().Secrets(ns).DeleteCollection(ctx, del, list) },
		"Services":    func() error { return b.deleteServices(ctx, t) },
	}
	if req.RemoveData {
		deletes["PersistentVolumeClaims"] = func() error {
			return b.client.CoreV1().PersistentVolumeClaims(ns).DeleteCollection(ctx, del, list)
		}
	}
	for what, fn := range deletes {
		if err := fn(); err != nil && !apierrors.IsNotFound(err) {
			return nil, b.apiError("delete "+what, err)
		}
	}
	if err := b.waitGone(ctx, t); err != nil {
		return nil, err
	}
	return &sdk.DestroyResponse{}, b.deleteNamespace(ctx, t)
}

// deleteServices deletes Services one by one: the API has no
// DeleteCollection for them.
func (b *Backend) deleteServices(ctx context.Context, t target) error {
	list, err := b.client.CoreV1().Services(t.namespace).List(ctx, metav1.ListOptions{LabelSelector: t.selector("")})
	if err != nil {
		return err
	}
	for _, s := range list.Items {
		if err := b.client.CoreV1().Services(t.namespace).Delete(ctx, s.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return err
		}
	}
	return nil
}

// gonePoll paces the reads that wait for deleted objects to go.
var gonePoll = sdk.PollOptions{Interval: 250 * time.Millisecond, MaxInterval: 2 * time.Second, Multiplier: 1.5}

// waitGone waits until no Deployment or pod of the deployment is left.
func (b *Backend) waitGone(ctx context.Context, t target) error {
	list := metav1.ListOptions{LabelSelector: t.selector("")}
	opts := gonePoll
	opts.Timeout = b.cfg.rolloutTimeout
	err := sdk.Poll(ctx, opts, func(ctx context.Context) (bool, error) {
		ds, err := b.client.AppsV1().Deployments(t.namespace).List(ctx, list)
		var pods *corev1.PodList
		if err == nil {
			pods, err = b.client.CoreV1().Pods(t.namespace).List(ctx, list)
		}
		if apierrors.IsNotFound(err) || (err == nil && len(ds.Items) == 0 && len(pods.Items) == 0) {
			return true, nil
		}
		if err != nil {
			return false, b.apiError("list what destroy removes", err)
		}
		return false, nil
	})
	if errors.Is(err, sdk.ErrPollTimeout) {
		return fmt.Errorf("destroy %s: objects still listed after %s", t.ref, b.cfg.rolloutTimeout)
	}
	return err
}

// deleteNamespace removes a namespace apply created, and waits for it;
// a namespace still holding kept volumes' claims stays.
func (b *Backend) deleteNamespace(ctx context.Context, t target) error {
	if t.shared {
		return nil
	}
	claims, err := b.client.CoreV1().PersistentVolumeClaims(t.namespace).List(ctx, metav1.ListOptions{LabelSelector: t.selector("")})
	if err == nil && slices.ContainsFunc(claims.Items, func(c corev1.PersistentVolumeClaim) bool { return c.DeletionTimestamp == nil }) {
		return nil // kept data: the namespace stays with it
	}
	ns, err := b.client.CoreV1().Namespaces().Get(ctx, t.namespace, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return b.apiError("read namespace "+t.namespace, err)
	}
	if ns.Labels[labelDeployment] != t.ref.Name || ns.Labels[labelTenant] != t.ref.Tenant {
		return nil // not ours: leave it
	}
	if err := b.client.CoreV1().Namespaces().Delete(ctx, t.namespace, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return b.apiError("delete namespace "+t.namespace, err)
	}
	opts := gonePoll
	opts.Timeout = b.cfg.rolloutTimeout
	err = sdk.Poll(ctx, opts, func(ctx context.Context) (bool, error) {
		_, err := b.client.CoreV1().Namespaces().Get(ctx, t.namespace, metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
	if errors.Is(err, sdk.ErrPollTimeout) {
		return fmt.Errorf("destroy %s: namespace %s still terminating after %s", t.ref, t.namespace, b.cfg.rolloutTimeout)
	}
	return err
}
