package azure

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/appcontainers/armappcontainers/v3"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/sdk"
)

// parallelApps is how many apps one operation converges at once.
const parallelApps = 4

var errNotConfigured = errors.New("backend is not configured")

// Validate reports what Container Apps cannot run as written. It reaches
// nothing and reads no configuration, so it answers the same on a process
// never configured (swarmctl validate, offline).
func (b *Backend) Validate(_ context.Context, req *sdk.ValidateRequest) (*sdk.ValidateResponse, error) {
	var diags []sdk.Diagnostic
	for _, s := range req.Deployment.Services {
		path := "service." + s.Name
		if _, _, ok := sizeFor(s.Resources.CPU, s.Resources.MemoryBytes); !ok {
			diags = append(diags, sdk.Diagnostic{Severity: sdk.SeverityError, Path: path + ".resources",
				Summary: "Container Apps runs at most 4 CPU and 8 GiB of memory per app (consumption profile)"})
		}
		for _, v := range s.Volumes {
			diags = append(diags, sdk.Diagnostic{Severity: sdk.SeverityError, Path: path + ".volume." + v.Volume,
				Summary: volumeUnsupported(v)})
		}
		for _, p := range s.Ports {
			if p.Protocol == core.ProtocolUDP {
				diags = append(diags, sdk.Diagnostic{Severity: sdk.SeverityError, Path: path + ".port." + p.Name,
					Summary: "Container Apps ingress carries TCP only, not UDP"})
			}
		}
		if s.Replicas > 1000 {
			diags = append(diags, sdk.Diagnostic{Severity: sdk.SeverityError, Path: path + ".replicas",
				Summary: "Container Apps runs at most 1000 replicas of an app"})
		}
		if _, ok := s.Env[envSecretsHash]; ok || slices.ContainsFunc(s.SecretEnv, func(r core.SecretRef) bool { return r.Env == envSecretsHash }) {
			diags = append(diags, sdk.Diagnostic{Severity: sdk.SeverityError, Path: path + ".env." + envSecretsHash,
				Summary: envSecretsHash + " is the azure backend's own variable"})
		}
		if s.Health != nil && s.Health.Kind == core.HealthCheckCommand {
			diags = append(diags, sdk.Diagnostic{Severity: sdk.SeverityWarning, Path: path + ".health",
				Summary: "Container Apps has no command probes: this health check is dropped"})
		}
	}
	return &sdk.ValidateResponse{Diagnostics: diags}, nil
}

// Plan compares the services as last applied, of those whose app Azure
// still runs, with the ones asked for (an app deleted behind the plugin's
// back is created again), and reports what Container Apps honours only
// approximately.
func (b *Backend) Plan(ctx context.Context, req *sdk.PlanRequest) (*sdk.PlanResponse, error) {
	if b.cl == nil {
		return nil, errNotConfigured
	}
	st, err := decodeState(req.PriorState)
	if err != nil {
		return nil, err
	}
	live, err := b.deploymentApps(ctx, req.Deployment.Ref())
	if err != nil {
		return nil, err
	}
	var running []core.ServiceSpec
	for _, s := range st.Services {
		if _, ok := live[s.Name]; ok {
			running = append(running, s)
		}
	}
	for svc := range live {
		if st.Service(svc) == nil {
			running = append(running, core.ServiceSpec{Name: svc})
		}
	}
	slices.SortStableFunc(running, func(a, b core.ServiceSpec) int {
		return cmpIndex(req.Deployment.Services, a.Name) - cmpIndex(req.Deployment.Services, b.Name)
	})
	resp := &sdk.PlanResponse{Services: sdk.DiffServices(running, req.Deployment.Services)}
	note := func(svc, field string, level sdk.CompatLevel, format string, args ...any) {
		resp.Compatibility = append(resp.Compatibility, sdk.CompatibilityNote{Service: svc, Field: field, Level: level, Detail: fmt.Sprintf(format, args...)})
	}
	for _, s := range req.Deployment.Services {
		if sz, rounded, ok := sizeFor(s.Resources.CPU, s.Resources.MemoryBytes); ok && rounded {
			note(s.Name, "resources", sdk.CompatApproximated, "runs as %s, the smallest Container Apps size that holds what is asked", sz)
		} else if !ok {
			note(s.Name, "resources", sdk.CompatError, "no Container Apps size is that large (4 CPU, 8Gi at most)")
		}
		for i, p := range s.Ports {
			switch {
			case p.Protocol == core.ProtocolUDP:
				note(s.Name, "port."+p.Name, sdk.CompatError, "Container Apps ingress carries TCP only")
			case i == 0 && p.Host != 0:
				note(s.Name, "port."+p.Name+".host", sdk.CompatApproximated, "published through external HTTP ingress on the app's FQDN (ports 80 and 443), not on port %d", p.Host)
			case i == 0:
				note(s.Name, "port."+p.Name, sdk.CompatApproximated, "served through internal HTTP ingress at the app's name (%s), which other apps of the environment reach", "the plugin's app name")
			default:
				note(s.Name, "port."+p.Name, sdk.CompatApproximated, "an additional TCP port mapping of the app's ingress")
			}
		}
		if s.Health != nil && s.Health.Kind == core.HealthCheckCommand {
			note(s.Name, "health", sdk.CompatDropped, "Container Apps has no command probes")
		} else if s.Health == nil {
			note(s.Name, "health", sdk.CompatApproximated, "without a health check a new revision takes traffic as soon as its containers start")
		}
		if len(s.DependsOn) > 0 {
			note(s.Name, "depends_on", sdk.CompatApproximated, "the app is applied once the apps it depends on are provisioned, not once they are ready")
		}
		for _, dep := range s.DependsOn {
			peer := req.Deployment.Service(dep)
			switch {
			case peer == nil:
			case len(peer.Ports) == 0:
				note(s.Name, "depends_on", sdk.CompatApproximated, "%s has no port, so no ingress and no address: the app gets no $%s", dep, peerEnvURL(dep))
			default:
				note(s.Name, "depends_on", sdk.CompatApproximated, "%s is reached at its app's FQDN, given as $%s (https://<fqdn>) and $%s, not at the name %q", dep, peerEnvURL(dep), peerEnvHost(dep), dep)
			}
		}
		if len(s.Labels) > 0 {
			note(s.Name, "labels", sdk.CompatDropped, "labels do not become Azure tags")
		}
		for _, v := range s.Volumes {
			note(s.Name, "volume", sdk.CompatError, "%s", volumeUnsupported(v))
		}
	}
	return resp, nil
}

// volumeUnsupported says why a topology volume cannot be mounted. Every
// topology volume is named and outlives replicas and restarts (and the
// deployment, unless destroy removes data); Container Apps' EmptyDir lives
// and dies with one replica, so it is no stand-in: data would be lost
// silently. Azure Files storage of the environment would be one, and is not
// built.
func volumeUnsupported(v core.VolumeMount) string {
	return fmt.Sprintf("named volume %q (at %s) must persist across replicas and restarts: Container Apps' EmptyDir volumes are per replica and lost with it, "+
		"and Azure Files storage is not supported by the azure backend yet", v.Volume, v.Path)
}

// cmpIndex is the position of service in services, or past the end.
func cmpIndex(services []core.ServiceSpec, service string) int {
	if i := slices.IndexFunc(services, func(s core.ServiceSpec) bool { return s.Name == service }); i >= 0 {
		return i
	}
	return len(services)
}

// Apply makes the environment run the deployment: each service's app
// created or updated (side by side, parallelApps at a time) and awaited,
// then the apps of services no longer asked for deleted.
func (b *Backend) Apply(ctx context.Context, req *sdk.ApplyRequest, progressFn sdk.ProgressFunc) (*sdk.ApplyResponse, error) {
	if b.cl == nil {
		return nil, errNotConfigured
	}
	st, err := decodeState(req.PriorState)
	if err != nil {
		return nil, err
	}
	ref := req.Deployment.Ref()
	progress := sdk.NewProgress(progressFn)
	progress.Infof("", "", "applying %d services as container apps in environment %s", len(req.Deployment.Services), b.cfg.Environment)

	// Record the services before touching Azure: a failed or killed apply
	// leaves a state from which destroy finds everything.
	prior := st.Services
	st.Services = slices.Clone(req.Deployment.Services)
	for _, p := range prior {
		if req.Deployment.Service(p.Name) == nil {
			st.Services = append(st.Services, p)
		}
	}
	for _, svc := range req.Deployment.Services {
		if _, ok := st.Stopped[svc.Name]; ok {
			// A stopped app stays stopped; start brings back the
			// replicas applied now.
			st.SetStopped(svc.Name, svc.Replicas)
		}
	}
	applyErr := b.applyServices(ctx, ref, req, st, progress)
	if applyErr == nil {
		applyErr = b.removeDropped(ctx, ref, req.Deployment.Services, prior, progress)
	}
	if applyErr == nil {
		st.Services = req.Deployment.Services
		for svc := range st.Stopped {
			if req.Deployment.Service(svc) == nil {
				delete(st.Stopped, svc)
			}
		}
		progress.Infof("", "", "applied")
	}
	blob, err := st.blob(applyErr)
	return &sdk.ApplyResponse{State: blob}, err
}

// applyServices applies the services level by level of their
// dependencies: the services of one level side by side (parallelApps at a
// time), each level once the one before is provisioned.
func (b *Backend) applyServices(ctx context.Context, ref core.DeploymentRef, req *sdk.ApplyRequest, st *state, progress *sdk.Progress) error {
	for _, level := range req.Deployment.StartLevels() {
		var (
			wg   sync.WaitGroup
			mu   sync.Mutex
			errs []error
			sem  = make(chan struct{}, parallelApps)
		)
		for _, name := range level {
			svc := req.Deployment.Service(name)
			wg.Add(1)
			go func() {
				defer wg.Done()
				select {
				case sem <- struct{}{}:
				case <-ctx.Done():
					return
				}
				defer func() { <-sem }()
				if err := b.applyService(ctx, ref, svc, req.Deployment.Services, req.Secrets, st, progress); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("apply %s: %w", ref, err)
		}
		if err := errors.Join(errs...); err != nil {
			return err
		}
	}
	return nil
}

// applyService creates or updates one app and waits for its provisioning.
func (b *Backend) applyService(ctx context.Context, ref core.DeploymentRef, svc *core.ServiceSpec, peers []core.ServiceSpec, values sdk.SecretValues, st *state, progress *sdk.Progress) error {
	name := appName(b.cfg.NamePrefix, ref, svc.Name)
	app, hash, err := b.desiredApp(ref, svc, peers, values, st.Salt())
	if err != nil {
		return err
	}
	cur, err := b.cl.apps.Get(ctx, b.cfg.ResourceGroup, name, nil)
	switch {
	case err == nil:
		if _, mine := owned(cur.Tags, ref); !mine {
			return fmt.Errorf("apply service %s: container app %s exists and does not belong to deployment %s; the plugin leaves it alone", svc.Name, name, ref)
		}
		if p := cur.Properties; p != nil && cur.Tags[tagSpec] != nil && *cur.Tags[tagSpec] == hash &&
			p.ProvisioningState != nil && *p.ProvisioningState == armappcontainers.ContainerAppProvisioningStateSucceeded {
			progress.Infof(svc.Name, "", "container app %s is up to date", name)
			return nil
		}
		progress.Infof(svc.Name, "", "updating container app %s", name)
	case isStatus(err, http.StatusNotFound):
		progress.Infof(svc.Name, "", "creating container app %s", name)
	default:
		return armError("read container app "+name, err)
	}
	return b.createOrUpdate(ctx, svc.Name, name, app, progress)
}

// createOrUpdate sends the app and awaits the long-running operation,
// reporting the app's provisioning and running state as they change. A
// pending operation on the app (a killed apply's, say) is waited out.
func (b *Backend) createOrUpdate(ctx context.Context, service, name string, app armappcontainers.ContainerApp, progress *sdk.Progress) error {
	ctx, cancel := context.WithTimeout(ctx, b.cfg.applyTimeout)
	defer cancel()
	var poller *runtime.Poller[armappcontainers.ContainerAppsClientCreateOrUpdateResponse]
	err := sdk.Poll(ctx, sdk.PollOptions{Interval: b.cfg.pollInterval, MaxInterval: 4 * b.cfg.pollInterval}, func(ctx context.Context) (bool, error) {
		var err error
		poller, err = b.cl.apps.BeginCreateOrUpdate(ctx, b.cfg.ResourceGroup, name, app, nil)
		if isStatus(err, http.StatusConflict) && !isQuota(err) {
			progress.Infof(service, "", "container app %s has an operation in progress; waiting", name)
			return false, nil
		}
		return err == nil, err
	})
	if err != nil {
		return armError("create or update container app "+name, err)
	}
	if err := b.await(ctx, service, name, poller, progress); err != nil {
		return fmt.Errorf("provision container app %s of service %s: %w", name, service, err)
	}
	return nil
}

// donePoller is the part of the SDK's pollers await uses.
type donePoller interface {
	Done() bool
	Poll(context.Context) (*http.Response, error)
}

// await polls a long-running operation until it is done, reporting the
// app's provisioning and running state when they change, and returns
// Azure's message when it failed.
func (b *Backend) await(ctx context.Context, service, name string, p donePoller, progress *sdk.Progress) error {
	last := ""
	for !p.Done() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(b.cfg.pollInterval):
		}
		if _, err := p.Poll(ctx); err != nil {
			return errors.New(azureMessage(err))
		}
		if p.Done() {
			break
		}
		if cur, err := b.cl.apps.Get(ctx, b.cfg.ResourceGroup, name, nil); err == nil && cur.Properties != nil {
			now := fmt.Sprintf("provisioning %s, %s", deref(cur.Properties.ProvisioningState), deref(cur.Properties.RunningStatus))
			if now != last {
				progress.Infof(service, "", "container app %s: %s", name, now)
				last = now
			}
		}
	}
	switch pr := p.(type) {
	case *runtime.Poller[armappcontainers.ContainerAppsClientCreateOrUpdateResponse]:
		if _, err := pr.Result(ctx); err != nil {
			return errors.New(azureMessage(err))
		}
	case *runtime.Poller[armappcontainers.ContainerAppsClientDeleteResponse]:
		if _, err := pr.Result(ctx); err != nil {
			return errors.New(azureMessage(err))
		}
	case *runtime.Poller[armappcontainers.ContainerAppsClientStartResponse]:
		if _, err := pr.Result(ctx); err != nil {
			return errors.New(azureMessage(err))
		}
	case *runtime.Poller[armappcontainers.ContainerAppsClientStopResponse]:
		if _, err := pr.Result(ctx); err != nil {
			return errors.New(azureMessage(err))
		}
	}
	progress.Infof(service, "", "container app %s: operation done", name)
	return nil
}

func deref[T ~string](p *T) string {
	if p == nil {
		return "unknown"
	}
	return string(*p)
}

// removeDropped deletes the apps of services the deployment no longer
// has: those the prior state names and those tagged with the deployment.
func (b *Backend) removeDropped(ctx context.Context, ref core.DeploymentRef, keep []core.ServiceSpec, prior []core.ServiceSpec, progress *sdk.Progress) error {
	found, err := b.deploymentApps(ctx, ref)
	if err != nil {
		return err
	}
	for _, p := range prior {
		found[p.Name] = appName(b.cfg.NamePrefix, ref, p.Name)
	}
	var errs []error
	for svc, name := range found {
		if slices.ContainsFunc(keep, func(s core.ServiceSpec) bool { return s.Name == svc }) {
			continue
		}
		if err := b.deleteApp(ctx, ref, svc, name, progress); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// deploymentApps lists the apps of the resource group tagged with ref and
// named as appName names them: service -> app name.
func (b *Backend) deploymentApps(ctx context.Context, ref core.DeploymentRef) (map[string]string, error) {
	out := map[string]string{}
	pager := b.cl.apps.NewListByResourceGroupPager(b.cfg.ResourceGroup, nil)
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, armError("list container apps of resource group "+b.cfg.ResourceGroup, err)
		}
		for _, a := range page.Value {
			if a == nil || a.Name == nil {
				continue
			}
			if svc, ok := owned(a.Tags, ref); ok && *a.Name == appName(b.cfg.NamePrefix, ref, svc) {
				out[svc] = *a.Name
			}
		}
	}
	return out, nil
}

// deleteApp deletes one app of deployment ref and waits until it is gone;
// an app already gone is fine, and an app whose tags do not put it in ref
// (another deployment's, or no alphaswarm app at all) is left alone.
func (b *Backend) deleteApp(ctx context.Context, ref core.DeploymentRef, service, name string, progress *sdk.Progress) error {
	ctx, cancel := context.WithTimeout(ctx, b.cfg.applyTimeout)
	defer cancel()
	cur, err := b.cl.apps.Get(ctx, b.cfg.ResourceGroup, name, nil)
	switch {
	case isStatus(err, http.StatusNotFound):
		return nil
	case err != nil:
		return armError("read container app "+name, err)
	}
	if svc, mine := owned(cur.Tags, ref); !mine || svc != service {
		progress.Warnf(service, "", "container app %s does not belong to deployment %s: left alone", name, ref)
		return nil
	}
	var poller *runtime.Poller[armappcontainers.ContainerAppsClientDeleteResponse]
	err = sdk.Poll(ctx, sdk.PollOptions{Interval: b.cfg.pollInterval, MaxInterval: 4 * b.cfg.pollInterval}, func(ctx context.Context) (bool, error) {
		var err error
		poller, err = b.cl.apps.BeginDelete(ctx, b.cfg.ResourceGroup, name, nil)
		if isStatus(err, http.StatusConflict) {
			return false, nil
		}
		return err == nil, err
	})
	switch {
	case isStatus(err, http.StatusNotFound):
		return nil
	case err != nil:
		return armError("delete container app "+name, err)
	}
	progress.Infof(service, "", "deleting container app %s", name)
	if err := b.await(ctx, service, name, poller, progress); err != nil {
		return fmt.Errorf("delete container app %s of service %s: %w", name, service, err)
	}
	return nil
}

// Destroy deletes every app of the deployment: those its state names and
// those its tags find. Destroying what is gone succeeds.
func (b *Backend) Destroy(ctx context.Context, req *sdk.DestroyRequest) (*sdk.DestroyResponse, error) {
	if b.cl == nil {
		return nil, errNotConfigured
	}
	st, err := decodeState(req.State)
	if err != nil {
		return nil, err
	}
	if err := b.removeDropped(ctx, req.Deployment, nil, st.Services, nil); err != nil {
		return nil, fmt.Errorf("destroy %s: %w", req.Deployment, err)
	}
	return &sdk.DestroyResponse{}, nil
}
