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
	s     *suite
	spec  core.DeploymentSpec
	state []byte
}

// newDeployment builds a spec with the given services (name -> replicas) and
// arranges for it to be destroyed when the test ends.
func (s *suite) newDeployment(t *testing.T, services map[string]int) *deployment {
	t.Helper()
	name := fmt.Sprintf("ct-%d-%d", time.Now().Unix()%100000, deploymentSeq.Add(1))
	d := &deployment{s: s, spec: core.DeploymentSpec{Tenant: s.h.Tenant, Environment: "test", Name: name}}
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

func (d *deployment) ctx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d.s.h.Timeout)
	t.Cleanup(cancel)
	return ctx
}

// apply applies the spec, keeps the state, and returns the events seen.
func (d *deployment) apply(t *testing.T) []core.Event {
	t.Helper()
	var events []core.Event
	resp, err := d.s.client.Apply(d.ctx(t), &sdk.ApplyRequest{Deployment: d.spec, PriorState: d.state, Secrets: sdk.SecretValues{}},
		func(e core.Event) { events = append(events, e) })
	if resp != nil {
		d.state = resp.State
	}
	if err != nil {
		t.Fatalf("apply %s: %v", d.spec.Ref(), err)
	}
	return events
}

func (d *deployment) plan(t *testing.T) *sdk.PlanResponse {
	t.Helper()
	resp, err := d.s.client.Plan(d.ctx(t), &sdk.PlanRequest{Deployment: d.spec, PriorState: d.state})
	if err != nil {
		t.Fatalf("plan %s: %v", d.spec.Ref(), err)
	}
	return resp
}

func (d *deployment) status(t *testing.T) core.DeploymentStatus {
	t.Helper()
	resp, err := d.s.client.Status(d.ctx(t), &sdk.StatusRequest{Deployment: d.spec.Ref(), State: d.state})
	if err != nil {
		t.Fatalf("status %s: %v", d.spec.Ref(), err)
	}
	return resp.Status
}

// waitFor polls Status until ok accepts it, or fails after the timeout with
// the last status and what ok said about it.
func (d *deployment) waitFor(t *testing.T, what string, ok func(core.DeploymentStatus) string) core.DeploymentStatus {
	t.Helper()
	deadline := time.Now().Add(d.s.h.Timeout)
	for {
		st := d.status(t)
		problem := ok(st)
		if problem == "" {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still not so after %s: %s\nlast status: %+v", what, d.s.h.Timeout, problem, st)
		}
		time.Sleep(100 * time.Millisecond)
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

func replicaIDs(st core.DeploymentStatus, svc string) []string {
	var ids []string
	if ss := st.Service(svc); ss != nil {
		for _, r := range ss.Replicas {
			ids = append(ids, r.ID)
		}
	}
	return ids
}
