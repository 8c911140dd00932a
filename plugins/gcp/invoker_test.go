package gcp_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"cloud.google.com/go/iam/apiv1/iampb"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/sdk"
)

const runner = "runner@alphaswarm-test.iam.gserviceaccount.com"

// bindings renders a policy as "role member" lines, sorted.
func bindings(p *iampb.Policy) []string {
	var out []string
	for _, b := range p.GetBindings() {
		for _, m := range b.Members {
			out = append(out, b.Role+" "+m)
		}
	}
	slices.Sort(out)
	return out
}

// policiesOf returns the bindings of each Cloud Run service of a
// deployment, by service name.
func policiesOf(ref core.DeploymentRef) map[string][]string {
	out := map[string][]string{}
	for name, s := range servicesOf(ref) {
		out[name] = bindings(fake.ServicePolicy(s.Name))
	}
	return out
}

// withDeps is a deployment of the given services, each depending on the
// ones listed.
func withDeps(tenant, name string, deps map[string][]string) core.DeploymentSpec {
	spec := core.DeploymentSpec{Tenant: tenant, Environment: "test", Name: name}
	for _, svc := range slices.Sorted(maps.Keys(deps)) {
		s := testService("")
		s.Name, s.Replicas, s.DependsOn = svc, 1, deps[svc]
		spec.Services = append(spec.Services, s)
	}
	return spec
}

// TestInvokerGrants applies one deployment step by step, with
// service_account set: each service another depends on grants the account
// roles/run.invoker in its own policy, which keeps whatever else it holds;
// a dependency that goes away takes the grant with it, except a binding
// the operator made before apply managed it; a write that races another
// writer is read and made again; destroy leaves nothing.
func TestInvokerGrants(t *testing.T) {
	b := configured(t, map[string]any{"service_account": runner})
	const invoker = "roles/run.invoker serviceAccount:" + runner
	const ops = "roles/run.invoker user:ops@example.com"
	var ref core.DeploymentRef
	steps := []struct {
		name   string
		deps   map[string][]string
		before func(t *testing.T)
		want   map[string][]string
		// writes is how many policies apply writes.
		writes int
	}{
		{
			name:   "each called service grants the account",
			deps:   map[string][]string{"web": {"api"}, "api": {"db"}, "db": nil, "worker": nil},
			want:   map[string][]string{"web": nil, "api": {invoker}, "db": {invoker}, "worker": nil},
			writes: 2,
		},
		{
			name: "the operator's bindings stay when a dependency goes away",
			deps: map[string][]string{"web": {"db"}, "api": nil, "db": nil, "worker": nil},
			before: func(t *testing.T) {
				// The operator opens api to a user and worker to the runner, by hand.
				edit(t, ref, "api", func(p *iampb.Policy) {
					p.Bindings = append(p.Bindings, &iampb.Binding{Role: "roles/run.invoker", Members: []string{"user:ops@example.com"}},
						&iampb.Binding{Role: "roles/run.viewer", Members: []string{"group:readers@example.com"}})
				})
				edit(t, ref, "worker", func(p *iampb.Policy) {
					p.Bindings = append(p.Bindings, &iampb.Binding{Role: "roles/run.invoker", Members: []string{"serviceAccount:" + runner}})
				})
			},
			want:   map[string][]string{"web": nil, "api": {"roles/run.viewer group:readers@example.com", ops}, "db": {invoker}, "worker": {invoker}},
			writes: 1,
		},
		{
			name:   "a binding that was there before apply managed it is kept",
			deps:   map[string][]string{"web": {"worker"}, "api": {"worker"}, "db": nil, "worker": nil},
			want:   map[string][]string{"web": nil, "api": {"roles/run.viewer group:readers@example.com", ops}, "db": nil, "worker": {invoker}},
			writes: 1,
		},
		{
			name:   "and stays when no service calls it any more",
			deps:   map[string][]string{"web": nil, "api": nil, "db": nil, "worker": nil},
			want:   map[string][]string{"web": nil, "api": {"roles/run.viewer group:readers@example.com", ops}, "db": nil, "worker": {invoker}},
			writes: 0,
		},
		{
			name:   "a write that races another writer is made again",
			deps:   map[string][]string{"web": {"api"}, "api": nil, "db": nil, "worker": nil},
			before: func(*testing.T) { fake.ConcurrentPolicyChanges(2) },
			want: map[string][]string{"web": nil, "db": nil, "worker": {invoker}, "api": {"roles/run.viewer group:readers@example.com",
				"roles/run.viewer user:concurrent-4@example.com", "roles/run.viewer user:concurrent-5@example.com", ops, invoker}},
			writes: 3,
		},
		{
			name: "an unchanged apply writes no policy",
			deps: map[string][]string{"web": {"api"}, "api": nil, "db": nil, "worker": nil},
			want: map[string][]string{"web": nil, "db": nil, "worker": {invoker}, "api": {"roles/run.viewer group:readers@example.com",
				"roles/run.viewer user:concurrent-4@example.com", "roles/run.viewer user:concurrent-5@example.com", ops, invoker}},
			writes: 0,
		},
		{
			name: "a grant removed by hand is made again",
			deps: map[string][]string{"web": {"api"}, "api": nil, "db": nil, "worker": nil},
			before: func(t *testing.T) {
				edit(t, ref, "api", func(p *iampb.Policy) { p.Bindings = nil })
			},
			want:   map[string][]string{"web": nil, "db": nil, "worker": {invoker}, "api": {invoker}},
			writes: 1,
		},
	}
	var state []byte
	for _, step := range steps {
		spec := withDeps("invokers", "grants", step.deps)
		ref = spec.Ref()
		if step.before != nil {
			step.before(t)
		}
		writes := fake.Calls("Services/SetIamPolicy")
		resp, err := b.Apply(ctx(t), &sdk.ApplyRequest{Deployment: spec, PriorState: state}, func(core.Event) {})
		if err != nil {
			t.Fatalf("%s: apply: %v", step.name, err)
		}
		if n := fake.Calls("Services/SetIamPolicy") - writes; n != step.writes {
			t.Errorf("%s: apply wrote %d policies, want %d", step.name, n, step.writes)
		}
		state = resp.State
		if diff := cmp.Diff(step.want, policiesOf(ref), cmpopts.SortSlices(strings.Compare)); diff != "" {
			t.Errorf("%s: policies (-want +got):\n%s", step.name, diff)
		}
	}
	if _, err := b.Destroy(ctx(t), &sdk.DestroyRequest{Deployment: ref, State: state}); err != nil {
		t.Fatalf("destroy: %v", err)
	}
	if n := len(servicesOf(ref)); n != 0 {
		t.Errorf("%d services left after destroy", n)
	}
}

// edit changes the policy of one service of a deployment as the operator
// would, outside the plugin.
func edit(t *testing.T, ref core.DeploymentRef, service string, change func(*iampb.Policy)) {
	t.Helper()
	s := servicesOf(ref)[service]
	if s == nil {
		t.Fatalf("no service %s", service)
	}
	p := fake.ServicePolicy(s.Name)
	change(p)
	if err := fake.SetServicePolicy(s.Name, p); err != nil {
		t.Fatal(err)
	}
}

// TestInvokerWithoutServiceAccount: without service_account, plan says
// which grant the operator must make for each call between services, and
// apply touches no policy.
func TestInvokerWithoutServiceAccount(t *testing.T) {
	b := configured(t, nil)
	spec := withDeps("invokers", "default-account", map[string][]string{"web": {"api"}, "api": nil})
	t.Cleanup(func() { b.Destroy(context.Background(), &sdk.DestroyRequest{Deployment: spec.Ref()}) })
	plan, err := b.Plan(ctx(t), &sdk.PlanRequest{Deployment: spec})
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	var got []string
	for _, n := range plan.Compatibility {
		if n.Field == "depends_on" && strings.Contains(n.Detail, "roles/run.invoker") {
			got = append(got, fmt.Sprintf("%s %s %s", n.Service, n.Field, n.Level))
			if !strings.Contains(n.Detail, "default compute service account") || !strings.Contains(n.Detail, "as-invokers-test-default-account-api-") {
				t.Errorf("the note %q does not say which account needs the role on which Cloud Run service", n.Detail)
			}
		}
	}
	if diff := cmp.Diff([]string{"web depends_on " + string(sdk.CompatApproximated)}, got); diff != "" {
		t.Errorf("invoker notes (-want +got):\n%s", diff)
	}
	gets, sets := fake.Calls("Services/GetIamPolicy"), fake.Calls("Services/SetIamPolicy")
	if _, err := b.Apply(ctx(t), &sdk.ApplyRequest{Deployment: spec}, func(core.Event) {}); err != nil {
		t.Fatalf("apply: %v", err)
	}
	if g, s := fake.Calls("Services/GetIamPolicy")-gets, fake.Calls("Services/SetIamPolicy")-sets; g != 0 || s != 0 {
		t.Errorf("apply without service_account read %d and wrote %d policies, want none", g, s)
	}
	if diff := cmp.Diff(map[string][]string{"web": nil, "api": nil}, policiesOf(spec.Ref())); diff != "" {
		t.Errorf("policies (-want +got):\n%s", diff)
	}
}
