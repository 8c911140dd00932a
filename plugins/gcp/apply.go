package gcp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"cloud.google.com/go/run/apiv2/runpb"
	"google.golang.org/api/iterator"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/sdk"
)

var errNotConfigured = errors.New("backend is not configured")

// Validate reports what Cloud Run cannot run as written. It reaches no API.
func (b *Backend) Validate(_ context.Context, req *sdk.ValidateRequest) (*sdk.ValidateResponse, error) {
	var diags []sdk.Diagnostic
	for i := range req.Deployment.Services {
		s := &req.Deployment.Services[i]
		if s.Replicas < 0 {
			diags = append(diags, sdk.Diagnostic{Severity: sdk.SeverityError, Path: "service." + s.Name + ".replicas",
				Summary: fmt.Sprintf("service %q: replicas %d: an instance count is 0 or more", s.Name, s.Replicas)})
		}
		for _, n := range compatibility(s) {
			if n.Level == sdk.CompatError {
				diags = append(diags, sdk.Diagnostic{Severity: sdk.SeverityError, Path: "service." + s.Name + "." + n.Field,
					Summary: fmt.Sprintf("service %q: %s", s.Name, n.Detail)})
			}
		}
	}
	return &sdk.ValidateResponse{Diagnostics: diags}, nil
}

// Plan compares the spec with the services Cloud Run runs, read from
// their spec annotations, so it needs no state; its compatibility report
// says what Cloud Run cannot honour.
func (b *Backend) Plan(ctx context.Context, req *sdk.PlanRequest) (*sdk.PlanResponse, error) {
	if b.run == nil {
		return nil, errNotConfigured
	}
	t := b.target(req.Deployment.Ref())
	if _, err := b.cfg.runtimeAccount(t.ref); err != nil {
		return nil, err
	}
	running, err := b.listServices(ctx, t)
	if err != nil {
		return nil, err
	}
	var specs []core.ServiceSpec
	for _, s := range running {
		specs = append(specs, specOf(s))
	}
	resp := &sdk.PlanResponse{Services: sdk.DiffServices(specs, req.Deployment.Services)}
	for i := range req.Deployment.Services {
		resp.Compatibility = append(resp.Compatibility, compatibility(&req.Deployment.Services[i])...)
	}
	resp.Compatibility = append(resp.Compatibility, b.identityNotes(&req.Deployment)...)
	resp.Compatibility = append(resp.Compatibility, b.invokerNotes(t, &req.Deployment)...)
	return resp, nil
}

// specOf reads the spec a Cloud Run service was applied from, with its
// instance count as it is now.
func specOf(s *runpb.Service) core.ServiceSpec {
	var spec core.ServiceSpec
	if json.Unmarshal([]byte(s.Annotations[annotationSpec]), &spec) != nil || spec.Name == "" {
		spec = core.ServiceSpec{Name: s.Labels[labelService]}
	}
	if sc := s.GetScaling(); sc != nil && sc.ManualInstanceCount != nil {
		spec.Replicas = int(sc.GetManualInstanceCount())
	}
	return spec
}

// listServices lists the deployment's Cloud Run services, by label: Run
// has no filter, so it reads every page of the region's services.
func (b *Backend) listServices(ctx context.Context, t target) ([]*runpb.Service, error) {
	var out []*runpb.Service
	it := b.run.ListServices(ctx, &runpb.ListServicesRequest{Parent: t.parent})
	for {
		s, err := it.Next()
		if err == iterator.Done {
			break
		}
		if err != nil {
			return nil, b.apiError(ctx, "list Cloud Run services", err)
		}
		if t.owns(s.Labels) && s.Labels[labelService] != "" {
			out = append(out, s)
		}
	}
	slices.SortFunc(out, func(a, b *runpb.Service) int { return strings.Compare(a.Labels[labelService], b.Labels[labelService]) })
	return out, nil
}

// Apply makes Cloud Run run the deployment: its secrets, then each level
// of the dependency order (services of one level side by side) created or
// updated and waited on before the next, which needs their URLs; then the
// removal of dropped services and secrets.
func (b *Backend) Apply(ctx context.Context, req *sdk.ApplyRequest, progress sdk.ProgressFunc) (*sdk.ApplyResponse, error) {
	if b.run == nil {
		return nil, errNotConfigured
	}
	st, err := decodeState(req.PriorState)
	if err != nil {
		return nil, err
	}
	var notes []sdk.CompatibilityNote
	for i := range req.Deployment.Services {
		notes = append(notes, compatibility(&req.Deployment.Services[i])...)
	}
	if err := errorsOf(notes); err != nil {
		return nil, fmt.Errorf("apply %s: %w", req.Deployment.Ref(), err)
	}
	t := b.target(req.Deployment.Ref())
	// Refused before anything is made, and with no state: nothing changed.
	if _, err := b.cfg.runtimeAccount(t.ref); err != nil {
		return nil, err
	}
	report := sdk.NewProgress(progress)
	report.Infof("", "", "applying %d services to Cloud Run in %s", len(req.Deployment.Services), t.parent)
	err = b.converge(ctx, t, &req.Deployment, req.Secrets, st, report)
	// The state records the spec even after a failure: labels let destroy
	// find whatever was created, and a retry converges again.
	st.Services = req.Deployment.Services
	st.Stopped = nil
	if err == nil {
		report.Infof("", "", "deployment %s ready: %d Cloud Run services", t.ref.Name, len(req.Deployment.Services))
	}
	blob, err := st.blob(err)
	return &sdk.ApplyResponse{State: blob}, err
}

func (b *Backend) converge(ctx context.Context, t target, spec *core.DeploymentSpec, secrets sdk.SecretValues, st *state, report *sdk.Progress) error {
	account, err := b.cfg.runtimeAccount(t.ref)
	if err != nil {
		return err
	}
	versions, err := b.ensureSecrets(ctx, t, spec, secrets, st.Salt(), account, report)
	if err != nil {
		return err
	}
	inv := &invokers{account: account, kept: map[string]string{}}
	for svc, account := range st.InvokersKept {
		if spec.Service(svc) != nil {
			inv.kept[svc] = account
		}
	}
	defer func() { st.InvokersKept = inv.kept }()
	called := invoked(spec)
	urls := map[string]string{}
	var mu sync.Mutex
	for _, level := range spec.StartLevels() {
		var wg sync.WaitGroup
		errs := make([]error, len(level))
		for i, name := range level {
			svc := spec.Service(name)
			wg.Go(func() {
				mu.Lock()
				deps := map[string]string{}
				for _, d := range svc.DependsOn {
					deps[d] = urls[d]
				}
				mu.Unlock()
				uri, err := b.applyService(ctx, t, svc, versions, deps, inv, called[name], report)
				mu.Lock()
				urls[name] = uri
				mu.Unlock()
				errs[i] = err
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return err
		}
	}
	if err := b.removeDropped(ctx, t, spec, report); err != nil {
		return err
	}
	// Every service now serves a ready revision that reads the pinned
	// versions: the older ones' values go.
	if err := b.pruneVersions(ctx, t, versions, report); err != nil {
		return err
	}
	keep := map[string]bool{}
	for _, ref := range secretRefs(spec) {
		keep[t.secretName(ref)] = true
	}
	return b.deleteSecrets(ctx, t, keep)
}

// applyService creates or updates the service's Cloud Run service and
// waits for it, and returns its URL. A service already as asked (same spec
// hash, settled) is left alone, so it keeps its revision; one still
// reconciling from an apply that was cut short is waited for. When called
// is set (another service depends on it), the invoker account is granted
// roles/run.invoker on it once it is ready; a grant the spec no longer
// wants is removed before the update. Whether the account's binding is
// the operator's (kept) is decided before the update writes
// annotationInvoker: once the annotation names the account, a later apply
// takes the binding for its own.
func (b *Backend) applyService(ctx context.Context, t target, svc *core.ServiceSpec, versions, urls map[string]string, inv *invokers, called bool, report *sdk.Progress) (string, error) {
	account := ""
	if called {
		account = inv.account
	}
	want, err := b.desired(t, svc, svc.Replicas, versions, urls, inv.account, account)
	if err != nil {
		return "", err
	}
	cur, err := b.run.GetService(ctx, &runpb.GetServiceRequest{Name: want.Name})
	switch {
	case isNotFound(err):
		cur = nil
	case err != nil:
		return "", b.apiError(ctx, "read Cloud Run service "+short(want.Name), err)
	case !t.owns(cur.Labels) || cur.Labels[labelService] != svc.Name:
		return "", fmt.Errorf("apply service %s: Cloud Run service %s exists and is not this deployment's (it lacks its labels)", svc.Name, short(want.Name))
	}
	prev := cur.GetAnnotations()[annotationInvoker]
	if err := b.revokeInvoker(ctx, inv, svc.Name, want.Name, prev, account); err != nil {
		return "", err
	}
	// A new service's policy is empty: nothing of the operator's to keep.
	if cur != nil && account != "" && prev != account {
		if err := b.keepOperatorsInvoker(ctx, inv, svc.Name, want.Name); err != nil {
			return "", err
		}
	}
	uri, err := b.put(ctx, t, svc.Name, want, cur, false, report)
	if err != nil || account == "" {
		return uri, err
	}
	if err := b.grantInvoker(ctx, inv, svc.Name, want.Name); err != nil {
		return "", err
	}
	return uri, nil
}

// put makes the service's Cloud Run service want, from cur as it runs (nil
// when there is none, else the deployment's), forcing a new revision when
// force is set.
func (b *Backend) put(ctx context.Context, t target, service string, want, cur *runpb.Service, force bool, report *sdk.Progress) (string, error) {
	what := "apply service " + service
	switch {
	case cur == nil:
		op, err := b.run.CreateService(ctx, &runpb.CreateServiceRequest{Parent: t.parent, ServiceId: short(want.Name), Service: want})
		if err != nil {
			return "", b.apiError(ctx, "create Cloud Run service "+short(want.Name), err)
		}
		report.Infof(service, "", "creating Cloud Run service %s, %d instances", short(want.Name), want.Scaling.GetManualInstanceCount())
		got, err := b.wait(ctx, what, service, op, report)
		return got.GetUri(), err
	case !force && cur.Annotations[annotationHash] == want.Annotations[annotationHash] && cur.DeleteTime == nil &&
		cur.GetScaling().GetManualInstanceCount() == want.Scaling.GetManualInstanceCount() && cur.Annotations[annotationStopped] == "":
		// As apply left it, and not scaled or stopped since.
		if !cur.Reconciling && cur.GetTerminalCondition().GetState() == runpb.Condition_CONDITION_SUCCEEDED {
			report.Infof(service, "", "Cloud Run service %s unchanged, revision %s", short(want.Name), short(cur.LatestReadyRevision))
			return cur.Uri, nil
		}
		if cur.Reconciling {
			report.Infof(service, "", "Cloud Run service %s is reconciling; waiting", short(want.Name))
			return b.settle(ctx, what, service, want.Name, report)
		}
	}
	op, err := b.run.UpdateService(ctx, &runpb.UpdateServiceRequest{
		Service:          want,
		UpdateMask:       &fieldmaskpb.FieldMask{Paths: []string{"labels", "annotations", "template", "scaling", "ingress"}},
		ForceNewRevision: force,
	})
	if err != nil {
		return "", b.apiError(ctx, "update Cloud Run service "+short(want.Name), err)
	}
	report.Infof(service, "", "updating Cloud Run service %s, %d instances", short(want.Name), want.Scaling.GetManualInstanceCount())
	got, err := b.wait(ctx, what, service, op, report)
	return got.GetUri(), err
}

// settle waits for a service that is reconciling without an operation at
// hand (the plugin that started it is gone) to settle.
func (b *Backend) settle(ctx context.Context, what, service, name string, report *sdk.Progress) (string, error) {
	var got *runpb.Service
	last := ""
	opts := operationPoll
	opts.Timeout = b.cfg.operationTimeout
	err := sdk.Poll(ctx, opts, func(ctx context.Context) (bool, error) {
		s, err := b.run.GetService(ctx, &runpb.GetServiceRequest{Name: name})
		if err != nil {
			return false, b.apiError(ctx, "read Cloud Run service "+short(name), err)
		}
		if p := progressOf(s); p != last {
			report.Infof(service, "", "%s", p)
			last = p
		}
		got = s
		return !s.Reconciling, nil
	})
	if errors.Is(err, sdk.ErrPollTimeout) {
		return "", fmt.Errorf("%s: Cloud Run service %s still reconciling after %s (operation_timeout)", what, short(name), b.cfg.operationTimeout)
	}
	if err != nil {
		return "", err
	}
	if tc := got.GetTerminalCondition(); tc.GetState() == runpb.Condition_CONDITION_FAILED {
		return "", fmt.Errorf("%s: revision %s failed: %s", what, short(got.LatestCreatedRevision), tc.Message)
	}
	return got.Uri, nil
}

// removeDropped deletes the Cloud Run services of services the spec no
// longer has.
func (b *Backend) removeDropped(ctx context.Context, t target, spec *core.DeploymentSpec, report *sdk.Progress) error {
	running, err := b.listServices(ctx, t)
	if err != nil {
		return err
	}
	for _, s := range running {
		name := s.Labels[labelService]
		if spec.Service(name) != nil {
			continue
		}
		if err := b.deleteService(ctx, name, s.Name, report); err != nil {
			return err
		}
		report.Infof(name, "", "removed service %s", name)
	}
	return nil
}

// deleteService deletes one Cloud Run service and waits until it is gone.
func (b *Backend) deleteService(ctx context.Context, service, name string, report *sdk.Progress) error {
	op, err := b.run.DeleteService(ctx, &runpb.DeleteServiceRequest{Name: name})
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return b.apiError(ctx, "delete Cloud Run service "+short(name), err)
	}
	_, err = b.waitDone(ctx, "delete service "+service, service, op, report)
	return err
}

// Destroy deletes the deployment's Cloud Run services and secrets, found by
// label, and waits for the deletions. What is already gone is no error.
func (b *Backend) Destroy(ctx context.Context, req *sdk.DestroyRequest) (*sdk.DestroyResponse, error) {
	if b.run == nil {
		return nil, errNotConfigured
	}
	t := b.target(req.Deployment)
	running, err := b.listServices(ctx, t)
	if err != nil {
		return nil, err
	}
	report := sdk.NewProgress(nil)
	var wg sync.WaitGroup
	errs := make([]error, len(running))
	for i, s := range running {
		wg.Go(func() { errs[i] = b.deleteService(ctx, s.Labels[labelService], s.Name, report) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if err := b.deleteSecrets(ctx, t, nil); err != nil {
		return nil, err
	}
	return &sdk.DestroyResponse{}, nil
}
