package backendtest

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/sdk"
	"github.com/alphaswarm/controller/sdk/pluginhost"
)

// suite carries what every check needs.
type suite struct {
	h      Harness
	client *pluginhost.Client
	info   pluginhost.Info
}

var deploymentSeq atomic.Int64

// deployment is one deployment the suite created, with the state the host
// would keep for it.
type deployment struct {
	s       *suite
	spec    core.DeploymentSpec
	state   []byte
	secrets sdk.SecretValues
	// c, when set, is the client the deployment's calls go to instead of
	// the suite's.
	c *pluginhost.Client
}

// newDeployment builds a spec with the given services (name -> replicas) and
// arranges for it to be destroyed when the test ends.
func (s *suite) newDeployment(t *testing.T, services map[string]int) *deployment {
	t.Helper()
	name := fmt.Sprintf("ct-%d-%d", time.Now().Unix()%100000, deploymentSeq.Add(1))
	d := &deployment{s: s, spec: core.DeploymentSpec{Tenant: s.h.Tenant, Environment: "test", Name: name}, secrets: sdk.SecretValues{}}
	for _, svc := range sortedKeys(services) {
		spec := s.h.Service(svc)
		spec.Name, spec.Replicas = svc, services[svc]
		d.spec.Services = append(d.spec.Services, spec)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), s.h.Timeout)
		defer cancel()
		if _, err := s.client.Destroy(ctx, &sdk.DestroyRequest{Deployment: d.spec.Ref(), State: d.state, RemoveData: true}); err != nil {
			t.Errorf("clean up %s: %v", d.spec.Ref(), err)
		}
	})
	return d
}

func (d *deployment) client() *pluginhost.Client {
	if d.c != nil {
		return d.c
	}
	return d.s.client
}

func (d *deployment) ctx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d.s.h.Timeout)
	t.Cleanup(cancel)
	return ctx
}

// tryApply applies the spec, keeps the state, and returns the events seen.
// It does not fail t, so goroutines may call it.
func (d *deployment) tryApply() ([]core.Event, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d.s.h.Timeout)
	defer cancel()
	var events []core.Event
	resp, err := d.client().Apply(ctx, &sdk.ApplyRequest{Deployment: d.spec, PriorState: d.state, Secrets: d.secrets},
		func(e core.Event) { events = append(events, e) })
	if resp != nil {
		d.state = resp.State
	}
	if err != nil {
		return events, fmt.Errorf("apply %s: %w", d.spec.Ref(), err)
	}
	return events, nil
}

// apply applies the spec, keeps the state, and returns the events seen.
func (d *deployment) apply(t *testing.T) []core.Event {
	t.Helper()
	events, err := d.tryApply()
	if err != nil {
		t.Fatal(err)
	}
	return events
}

// tryDestroy destroys the deployment and forgets its state, as the host
// does once destroy succeeds.
func (d *deployment) tryDestroy() error {
	ctx, cancel := context.WithTimeout(context.Background(), d.s.h.Timeout)
	defer cancel()
	if _, err := d.client().Destroy(ctx, &sdk.DestroyRequest{Deployment: d.spec.Ref(), State: d.state, RemoveData: true}); err != nil {
		return fmt.Errorf("destroy %s: %w", d.spec.Ref(), err)
	}
	d.state = nil
	return nil
}

func (d *deployment) plan(t *testing.T) *sdk.PlanResponse {
	t.Helper()
	resp, err := d.client().Plan(d.ctx(t), &sdk.PlanRequest{Deployment: d.spec, PriorState: d.state})
	if err != nil {
		t.Fatalf("plan %s: %v", d.spec.Ref(), err)
	}
	return resp
}

func (d *deployment) status(t *testing.T) core.DeploymentStatus {
	t.Helper()
	st, err := d.tryStatus()
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func (d *deployment) tryStatus() (core.DeploymentStatus, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d.s.h.Timeout)
	defer cancel()
	resp, err := d.client().Status(ctx, &sdk.StatusRequest{Deployment: d.spec.Ref(), State: d.state})
	if err != nil {
		return core.DeploymentStatus{}, fmt.Errorf("status %s: %w", d.spec.Ref(), err)
	}
	return resp.Status, nil
}

// waitFor polls Status until ok accepts it, or fails after the timeout with
// the last status and what ok said about it.
func (d *deployment) waitFor(t *testing.T, what string, ok func(core.DeploymentStatus) string) core.DeploymentStatus {
	t.Helper()
	st, err := d.tryWaitFor(what, ok)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// tryWaitFor is waitFor for goroutines: it returns what went wrong.
func (d *deployment) tryWaitFor(what string, ok func(core.DeploymentStatus) string) (core.DeploymentStatus, error) {
	deadline := time.Now().Add(d.s.h.Timeout)
	for {
		st, err := d.tryStatus()
		if err != nil {
			return st, fmt.Errorf("%s: %w", what, err)
		}
		problem := ok(st)
		if problem == "" {
			return st, nil
		}
		if time.Now().After(deadline) {
			return st, fmt.Errorf("%s: still not so after %s: %s\nlast status: %+v", what, d.s.h.Timeout, problem, st)
		}
		time.Sleep(d.s.h.PollInterval)
	}
}

// serviceReady says why service name is not ready with n replicas, or "".
func serviceReady(name string, n int) func(core.DeploymentStatus) string {
	return func(st core.DeploymentStatus) string {
		ss := st.Service(name)
		switch {
		case ss == nil:
			return fmt.Sprintf("service %q missing from status", name)
		case ss.Health != core.HealthReady:
			return fmt.Sprintf("service %q is %s (%s)", name, ss.Health, strings.Join(ss.Reasons, "; "))
		case ss.Desired != n || ss.Ready != n || len(ss.Replicas) != n:
			return fmt.Sprintf("service %q has desired %d, ready %d, %d replicas; want %d", name, ss.Desired, ss.Ready, len(ss.Replicas), n)
		}
		return ""
	}
}

// allReady says why not every service of d is ready, or "".
func (d *deployment) allReady(st core.DeploymentStatus) string {
	for _, svc := range d.spec.Services {
		if p := serviceReady(svc.Name, svc.Replicas)(st); p != "" {
			return p
		}
	}
	if st.Health != core.HealthReady {
		return fmt.Sprintf("deployment is %s", st.Health)
	}
	return ""
}

// gone says why the status still shows something of a destroyed
// deployment, or "".
func gone(st core.DeploymentStatus) string {
	for _, ss := range st.Services {
		if ss.Health != core.HealthMissing || len(ss.Replicas) > 0 {
			return fmt.Sprintf("service %s is %s with %d replicas", ss.Name, ss.Health, len(ss.Replicas))
		}
	}
	return ""
}

func replicaIDs(st core.DeploymentStatus, svc string) []string {
	var ids []string
	if ss := st.Service(svc); ss != nil {
		for _, r := range ss.Replicas {
			ids = append(ids, r.ID)
		}
	}
	return ids
}
