package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/core/credentials"
	"github.com/alphaswarm/controller/host/internal/api/wire"
	"github.com/alphaswarm/controller/host/internal/backends"
	"github.com/alphaswarm/controller/host/internal/pluginmgr"
	"github.com/alphaswarm/controller/host/internal/store"
	"github.com/alphaswarm/controller/sdk"
	"github.com/alphaswarm/controller/sdk/pluginhost"
)

// Backend names the backend instance a job runs on, with its
// configuration (which holds no secret values).
type Backend struct {
	Type   string          `json:"type"`
	Name   string          `json:"name"`
	Config json.RawMessage `json:"config"`
}

// ID is "<type>.<name>".
func (b Backend) ID() string { return b.Type + "." + b.Name }

// Payload is what a job carries.
type Payload struct {
	Backend    Backend              `json:"backend"`
	Spec       *core.DeploymentSpec `json:"spec,omitempty"`        // apply
	SourceHash string               `json:"source_hash,omitempty"` // apply
	RemoveData bool                 `json:"remove_data,omitempty"` // destroy
	Service    string               `json:"service,omitempty"`     // restart, start, stop, scale
	Replicas   int                  `json:"replicas,omitempty"`    // scale
}

// Executor runs jobs against backend plugins and records the results.
type Executor struct {
	Store   *store.Store
	Plugins *pluginmgr.Manager
	// Backends are the registered backends: a job runs on the one it names,
	// configured by the operator, if it is still granted to the job's
	// tenant and environment.
	Backends *backends.Registry
	// Secrets resolves secret references at the moment of apply; nil
	// fails any apply that has some.
	Secrets *credentials.Resolver
}

var _ Runner = (*Executor)(nil)

// errInvalidJob marks a job that can never succeed as queued.
var errInvalidJob = errors.New("invalid job")

func (e *Executor) Run(ctx context.Context, job *store.Job, report func(core.Event)) error {
	var p Payload
	if err := json.Unmarshal(job.Payload, &p); err != nil {
		return fmt.Errorf("%w: decode payload of job %d: %v", errInvalidJob, job.ID, err)
	}
	cfg, err := e.instance(ctx, job.Deployment, p.Backend)
	if err != nil {
		return err
	}
	inst, err := e.Plugins.Start(ctx, cfg)
	if err != nil {
		return err
	}
	c, err := inst.Client(ctx)
	if err != nil {
		return err
	}
	report(core.Event{Level: core.EventInfo, Message: fmt.Sprintf("%s of %s on %s, attempt %d", job.Kind, job.Deployment, p.Backend.ID(), job.Attempts)})
	switch wire.Op(job.Kind) {
	case wire.OpApply:
		return e.apply(ctx, c, job, p, report)
	case wire.OpDestroy:
		return e.destroy(ctx, c, job, p)
	case wire.OpRestart, wire.OpStart, wire.OpStop, wire.OpScale:
		return e.runtime(ctx, c, job, p)
	}
	return fmt.Errorf("%w: job %d has unknown kind %q", errInvalidJob, job.ID, job.Kind)
}

// current reads the deployment's stored record; a deployment never applied
// has none.
func (e *Executor) current(ctx context.Context, ref core.DeploymentRef) (*store.Deployment, error) {
	d, err := e.Store.Deployment(ctx, ref)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return d, err
}

func (e *Executor) apply(ctx context.Context, c *pluginhost.Client, job *store.Job, p Payload, report func(core.Event)) error {
	if p.Spec == nil || p.Spec.Ref() != job.Deployment {
		return fmt.Errorf("%w: apply job %d carries no spec for %s", errInvalidJob, job.ID, job.Deployment)
	}
	prior, err := e.current(ctx, job.Deployment)
	if err != nil {
		return err // a corrupt state fails this deployment's job, clearly, and nothing else
	}
	var priorState []byte
	if prior != nil {
		priorState = prior.State
	}
	secrets := sdk.SecretValues{}
	if hasSecrets(p.Spec) {
		if e.Secrets == nil {
			return fmt.Errorf("apply %s: it references secrets and no secret store is configured", job.Deployment)
		}
		values, err := e.Secrets.Resolve(ctx, p.Spec)
		if err != nil {
			return err
		}
		secrets = values
	}
	resp, applyErr := c.Apply(ctx, &sdk.ApplyRequest{Deployment: *p.Spec, PriorState: priorState, Secrets: secrets}, report)
	state := priorState
	if resp != nil {
		state = resp.State
	}
	if applyErr != nil && (sdk.IsRetriable(applyErr) || ctx.Err() != nil) {
		if prior != nil && resp != nil {
			_ = e.Store.SaveState(context.WithoutCancel(ctx), job.Deployment, state) // keep what it created; the retry converges
		}
		return applyErr
	}
	images := map[string]string{}
	for _, s := range p.Spec.Services {
		images[s.Name] = s.Image
	}
	failpoint(failpointBeforeRecord)
	if _, err := e.Store.RecordApply(context.WithoutCancel(ctx), store.Apply{
		Ref: job.Deployment, Backend: p.Backend.ID(), BackendConfig: p.Backend.Config, Spec: *p.Spec, State: state, Images: images,
		SourceHash: p.SourceHash, AppliedBy: job.CreatedBy, Failed: applyErr, JobID: job.ID,
	}); err != nil {
		return fmt.Errorf("record the apply: %w", err)
	}
	e.refreshStatus(ctx, c, job.Deployment, state)
	return applyErr
}

func hasSecrets(d *core.DeploymentSpec) bool {
	for _, s := range d.Services {
		if len(s.SecretEnv) > 0 {
			return true
		}
	}
	return false
}

// destroy removes the deployment from its backend, and forgets it only once
// the backend confirmed; a failure keeps it visible with its error.
func (e *Executor) destroy(ctx context.Context, c *pluginhost.Client, job *store.Job, p Payload) error {
	ref := job.Deployment
	d, err := e.current(ctx, ref)
	var state []byte
	switch {
	case errors.Is(err, store.ErrCorruptState):
		// Destroy anyway: backends find what they made by label.
	case err != nil:
		return err
	case d != nil:
		state = d.State
	}
	if _, err := c.Destroy(ctx, &sdk.DestroyRequest{Deployment: ref, State: state, RemoveData: p.RemoveData}); err != nil {
		if d != nil {
			_ = e.Store.MarkDestroyFailed(context.WithoutCancel(ctx), ref, err.Error())
		}
		return err
	}
	return e.Store.DeleteDeployment(context.WithoutCancel(ctx), ref, job.CreatedBy)
}

func (e *Executor) runtime(ctx context.Context, c *pluginhost.Client, job *store.Job, p Payload) error {
	d, err := e.current(ctx, job.Deployment)
	if err != nil {
		return err
	}
	if d == nil {
		return sdk.NotFound("deployment %s", job.Deployment)
	}
	ref := job.Deployment
	var state []byte
	switch wire.Op(job.Kind) {
	case wire.OpRestart:
		r, err := c.Restart(ctx, &sdk.RestartRequest{Deployment: ref, State: d.State, Service: p.Service})
		if err != nil {
			return err
		}
		state = r.State
	case wire.OpStart:
		r, err := c.Start(ctx, &sdk.StartRequest{Deployment: ref, State: d.State, Service: p.Service})
		if err != nil {
			return err
		}
		state = r.State
	case wire.OpStop:
		r, err := c.Stop(ctx, &sdk.StopRequest{Deployment: ref, State: d.State, Service: p.Service})
		if err != nil {
			return err
		}
		state = r.State
	case wire.OpScale:
		r, err := c.Scale(ctx, &sdk.ScaleRequest{Deployment: ref, State: d.State, Service: p.Service, Replicas: p.Replicas})
		if err != nil {
			return err
		}
		state = r.State
	}
	if state == nil {
		state = d.State
	} else if err := e.Store.SaveState(context.WithoutCancel(ctx), ref, state); err != nil {
		return fmt.Errorf("record the new state: %w", err)
	}
	e.refreshStatus(ctx, c, ref, state)
	return nil
}

// refreshStatus records the backend's view after an operation, best effort.
func (e *Executor) refreshStatus(ctx context.Context, c *pluginhost.Client, ref core.DeploymentRef, state []byte) {
	if st, err := c.Status(ctx, &sdk.StatusRequest{Deployment: ref, State: state}); err == nil {
		_ = e.Store.SaveStatus(context.WithoutCancel(ctx), ref, st.Status)
	}
}

// instance is the plugin instance that runs a deployment's job on its
// registered backend: each tenant gets its own processes, so no plugin
// ever holds two tenants' configuration or credentials.
func (e *Executor) instance(ctx context.Context, ref core.DeploymentRef, b Backend) (pluginmgr.InstanceConfig, error) {
	if reg := e.Backends.Lookup(b.ID()); reg == nil || !reg.Granted(ref.Tenant, ref.Environment) {
		return pluginmgr.InstanceConfig{}, fmt.Errorf("run on backend %s: it is not registered on this controller for tenant %s in environment %s", b.ID(), ref.Tenant, ref.Environment)
	}
	return e.Backends.Instance(ctx, ref.Tenant, b.ID(), b.Config)
}
