package azure

import (
	"context"
	"fmt"
	"net/http"

	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/appcontainers/armappcontainers/v3"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/sdk"
)

// services returns the services an operation acts on: one, or all the
// state knows; a service the state does not know is NotFound.
func services(st *state, ref core.DeploymentRef, service string) ([]string, error) {
	if service != "" {
		if st.Service(service) == nil {
			return nil, sdk.NotFound("service %q of deployment %s", service, ref)
		}
		return []string{service}, nil
	}
	var out []string
	for _, s := range st.Services {
		out = append(out, s.Name)
	}
	return out, nil
}

// Scale sets min = max = replicas on the app: a new PUT of the app as it
// is, with its secret values read back through listSecrets (GET does not
// return them) and never kept.
func (b *Backend) Scale(ctx context.Context, req *sdk.ScaleRequest) (*sdk.ScaleResponse, error) {
	if b.cl == nil {
		return nil, errNotConfigured
	}
	st, err := decodeState(req.State)
	if err != nil {
		return nil, err
	}
	if req.Service == "" {
		return nil, fmt.Errorf("scale deployment %s: name the service to scale", req.Deployment)
	}
	if _, err := services(st, req.Deployment, req.Service); err != nil {
		return nil, err
	}
	if req.Replicas < 0 || req.Replicas > 1000 {
		return nil, fmt.Errorf("scale service %s: %d replicas is outside Container Apps' 0..1000", req.Service, req.Replicas)
	}
	name := appName(b.cfg.NamePrefix, req.Deployment, req.Service)
	if err := b.scaleApp(ctx, req.Deployment, req.Service, name, req.Replicas); err != nil {
		return nil, err
	}
	st.Service(req.Service).Replicas = req.Replicas
	blob, err := st.blob(nil)
	return &sdk.ScaleResponse{State: blob}, err
}

func (b *Backend) scaleApp(ctx context.Context, ref core.DeploymentRef, service, name string, replicas int) error {
	cur, err := b.cl.apps.Get(ctx, b.cfg.ResourceGroup, name, nil)
	if err != nil {
		return armError("read container app "+name, err)
	}
	if _, mine := owned(cur.Tags, ref); !mine || cur.Properties == nil || cur.Properties.Template == nil || cur.Properties.Configuration == nil {
		return sdk.NotFound("container app %s of service %s", name, service)
	}
	secrets, err := b.cl.apps.ListSecrets(ctx, b.cfg.ResourceGroup, name, nil)
	if err != nil {
		return armError("list secrets of container app "+name, err)
	}
	app := armappcontainers.ContainerApp{Location: cur.Location, Tags: cur.Tags, Properties: &armappcontainers.ContainerAppProperties{
		ManagedEnvironmentID: cur.Properties.ManagedEnvironmentID,
		Configuration:        cur.Properties.Configuration,
		Template:             cur.Properties.Template,
	}}
	conf := app.Properties.Configuration
	conf.Secrets = nil
	for _, s := range secrets.Value {
		conf.Secrets = append(conf.Secrets, &armappcontainers.Secret{Name: s.Name, Value: s.Value})
	}
	if conf.Ingress != nil {
		conf.Ingress.Fqdn = nil
	}
	n := int32(replicas)
	app.Properties.Template.Scale = &armappcontainers.Scale{MinReplicas: &n, MaxReplicas: ptr(max(n, 1))}
	delete(app.Tags, tagSpec) // the next apply puts the spec's count back
	return b.createOrUpdate(ctx, service, name, app, nil)
}

// Stop stops the apps (Container Apps' stop operation): no replicas run,
// the app and its revisions stay.
func (b *Backend) Stop(ctx context.Context, req *sdk.StopRequest) (*sdk.StopResponse, error) {
	blob, err := b.startStop(ctx, req.Deployment, req.State, req.Service, true)
	if err != nil {
		return nil, err
	}
	return &sdk.StopResponse{State: blob}, nil
}

// Start starts stopped apps again, with their replica count.
func (b *Backend) Start(ctx context.Context, req *sdk.StartRequest) (*sdk.StartResponse, error) {
	blob, err := b.startStop(ctx, req.Deployment, req.State, req.Service, false)
	if err != nil {
		return nil, err
	}
	return &sdk.StartResponse{State: blob}, nil
}

func (b *Backend) startStop(ctx context.Context, ref core.DeploymentRef, blob []byte, service string, stop bool) ([]byte, error) {
	if b.cl == nil {
		return nil, errNotConfigured
	}
	st, err := decodeState(blob)
	if err != nil {
		return nil, err
	}
	svcs, err := services(st, ref, service)
	if err != nil {
		return nil, err
	}
	for _, svc := range svcs {
		name := appName(b.cfg.NamePrefix, ref, svc)
		cur, err := b.cl.apps.Get(ctx, b.cfg.ResourceGroup, name, nil)
		if err != nil {
			return nil, armError("read container app "+name, err)
		}
		if _, mine := owned(cur.Tags, ref); !mine {
			return nil, sdk.NotFound("container app %s of service %s", name, svc)
		}
		var p donePoller
		verb := "start"
		if stop {
			verb = "stop"
			p, err = b.cl.apps.BeginStop(ctx, b.cfg.ResourceGroup, name, nil)
		} else {
			p, err = b.cl.apps.BeginStart(ctx, b.cfg.ResourceGroup, name, nil)
		}
		if err != nil {
			return nil, armError(verb+" container app "+name, err)
		}
		if err := b.await(ctx, svc, name, p, nil); err != nil {
			return nil, fmt.Errorf("%s container app %s: %w", verb, name, err)
		}
		if stop {
			st.SetStopped(svc, st.Service(svc).Replicas)
		} else {
			delete(st.Stopped, svc)
		}
	}
	return st.blob(nil)
}

// Restart restarts the latest revision of each app: Container Apps
// replaces its replicas.
func (b *Backend) Restart(ctx context.Context, req *sdk.RestartRequest) (*sdk.RestartResponse, error) {
	if b.cl == nil {
		return nil, errNotConfigured
	}
	st, err := decodeState(req.State)
	if err != nil {
		return nil, err
	}
	svcs, err := services(st, req.Deployment, req.Service)
	if err != nil {
		return nil, err
	}
	for _, svc := range svcs {
		name := appName(b.cfg.NamePrefix, req.Deployment, svc)
		cur, err := b.cl.apps.Get(ctx, b.cfg.ResourceGroup, name, nil)
		if err != nil {
			return nil, armError("read container app "+name, err)
		}
		if _, mine := owned(cur.Tags, req.Deployment); !mine || cur.Properties == nil || cur.Properties.LatestReadyRevisionName == nil {
			return nil, sdk.NotFound("a ready revision of container app %s", name)
		}
		if _, err := b.cl.revs.RestartRevision(ctx, b.cfg.ResourceGroup, name, *cur.Properties.LatestReadyRevisionName, nil); err != nil {
			return nil, armError("restart revision "+*cur.Properties.LatestReadyRevisionName, err)
		}
	}
	blob, err := st.blob(nil)
	return &sdk.RestartResponse{State: blob}, err
}

// NodeHealth reports the managed environment as the one node.
func (b *Backend) NodeHealth(ctx context.Context, _ *sdk.NodeHealthRequest) (*sdk.NodeHealthResponse, error) {
	if b.cl == nil {
		return nil, errNotConfigured
	}
	node := core.NodeHealth{Name: b.cfg.Environment}
	env, err := b.cl.envs.Get(ctx, b.cfg.ResourceGroup, b.cfg.Environment, nil)
	switch {
	case isStatus(err, http.StatusNotFound):
		node.Health, node.Reasons = core.HealthMissing, []string{"managed environment " + b.cfg.Environment + " does not exist"}
	case err != nil:
		node.Health, node.Reasons = core.HealthUnknown, []string{armError("read managed environment", err).Error()}
	default:
		node.Reachable = true
		state := ""
		if env.Properties != nil {
			state = deref(env.Properties.ProvisioningState)
		}
		switch state {
		case string(armappcontainers.EnvironmentProvisioningStateSucceeded):
			node.Health = core.HealthReady
		case string(armappcontainers.EnvironmentProvisioningStateFailed):
			node.Health, node.Reasons = core.HealthDown, []string{"environment provisioning failed"}
		default:
			node.Health, node.Reasons = core.HealthProgressing, []string{"environment provisioning " + state}
		}
	}
	return &sdk.NodeHealthResponse{Nodes: []core.NodeHealth{node}}, nil
}
