package gcp_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"cloud.google.com/go/iam/apiv1/iampb"
	"github.com/google/go-cmp/cmp"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/plugins/gcp"
	"github.com/alphaswarm/controller/sdk"
)

const (
	alphaRunner = "alpha-runner@alphaswarm-test.iam.gserviceaccount.com"
	betaRunner  = "beta-runner@alphaswarm-test.iam.gserviceaccount.com"
)

// tenantAccounts is a backend that two tenants share, each with a service
// account of its own.
func tenantAccounts(t *testing.T) *gcp.Backend {
	return configured(t, map[string]any{"tenant_service_accounts": map[string]string{"alpha": alphaRunner, "beta": betaRunner}})
}

// tenantDeployment is api, with a secret, which web depends on: apply
// grants the runtime account the secret and roles/run.invoker on api.
func tenantDeployment(tenant string) (core.DeploymentSpec, sdk.SecretValues) {
	spec := withDeps(tenant, "identity", map[string][]string{"api": nil, "web": {"api"}})
	spec.Service("api").SecretEnv = []core.SecretRef{{Env: "TOKEN", Ref: "token"}}
	return spec, sdk.SecretValues{"token": tenant + "-t0ken"}
}

// TestTenantServiceAccounts: two tenants on one backend with
// tenant_service_accounts run as their own accounts, and each account is
// granted only its own tenant's secrets and called services.
func TestTenantServiceAccounts(t *testing.T) {
	t.Parallel()
	b := tenantAccounts(t)
	cases := []struct {
		tenant, account string
	}{
		{"alpha", alphaRunner},
		{"beta", betaRunner},
	}
	for _, tc := range cases {
		t.Run(tc.tenant, func(t *testing.T) {
			t.Parallel()
			spec, secrets := tenantDeployment(tc.tenant)
			ref := spec.Ref()
			t.Cleanup(func() { b.Destroy(context.Background(), &sdk.DestroyRequest{Deployment: ref}) })
			plan, err := b.Plan(ctx(t), &sdk.PlanRequest{Deployment: spec})
			if err != nil {
				t.Fatalf("plan: %v", err)
			}
			for _, n := range plan.Compatibility {
				if n.Field == "identity" || strings.Contains(n.Detail, "default compute") {
					t.Errorf("plan of a tenant with its own account has the note %+v", n)
				}
			}
			if _, err := b.Apply(ctx(t), &sdk.ApplyRequest{Deployment: spec, Secrets: secrets}, func(core.Event) {}); err != nil {
				t.Fatalf("apply: %v", err)
			}
			runAs := map[string]string{}
			for name, s := range servicesOf(ref) {
				runAs[name] = s.Template.GetServiceAccount()
			}
			if diff := cmp.Diff(map[string]string{"api": tc.account, "web": tc.account}, runAs); diff != "" {
				t.Errorf("runtime accounts (-want +got):\n%s", diff)
			}
			readers := map[string][]string{}
			for name := range secretsOf(ref) {
				readers[name[strings.LastIndex(name, "/")+1:]] = fake.Secrets()[name].Readers
			}
			if len(readers) != 1 {
				t.Fatalf("secrets %v, want one", readers)
			}
			for name, got := range readers {
				if diff := cmp.Diff([]string{"serviceAccount:" + tc.account}, got); diff != "" {
					t.Errorf("readers of secret %s (-want +got):\n%s", name, diff)
				}
			}
			want := map[string][]string{"api": {"roles/run.invoker serviceAccount:" + tc.account}, "web": nil}
			if diff := cmp.Diff(want, policiesOf(ref)); diff != "" {
				t.Errorf("service policies (-want +got):\n%s", diff)
			}
		})
	}
}

// TestTenantWithoutServiceAccount: with tenant_service_accounts, a tenant
// the map does not name is refused at plan and apply, with an error that
// names the tenant and the attribute, and nothing is created.
func TestTenantWithoutServiceAccount(t *testing.T) {
	t.Parallel()
	b := tenantAccounts(t)
	spec, secrets := tenantDeployment("gamma")
	ref := spec.Ref()
	t.Cleanup(func() { b.Destroy(context.Background(), &sdk.DestroyRequest{Deployment: ref}) })
	ops := []struct {
		name string
		call func() error
	}{
		{"plan", func() error {
			_, err := b.Plan(ctx(t), &sdk.PlanRequest{Deployment: spec})
			return err
		}},
		{"apply", func() error {
			_, err := b.Apply(ctx(t), &sdk.ApplyRequest{Deployment: spec, Secrets: secrets}, func(core.Event) {})
			return err
		}},
	}
	for _, op := range ops {
		err := op.call()
		var invalid *sdk.InvalidRequestError
		if !errors.As(err, &invalid) {
			t.Fatalf("%s: %v, want an InvalidRequestError", op.name, err)
		}
		for _, w := range []string{`tenant "gamma"`, "tenant_service_accounts"} {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %v, want an error saying %q", op.name, err, w)
			}
		}
	}
	if s, x := servicesOf(ref), secretsOf(ref); len(s) != 0 || len(x) != 0 {
		t.Errorf("a refused tenant got %d services and %d secrets", len(s), len(x))
	}
}

// TestSharedIdentityNote: a backend whose tenants all run as one account
// (service_account, or the default compute service account) says so in
// plan, for each service, naming the account and the ways out; one with
// tenant_service_accounts says nothing.
func TestSharedIdentityNote(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		extra map[string]any
		// want are words of the note; nil: no note.
		want []string
	}{
		{"service_account", map[string]any{"service_account": runner}, []string{runner, "every tenant granted this backend"}},
		{"the default compute account", nil, []string{"the project's default compute service account", "every tenant granted this backend"}},
		{"tenant_service_accounts", map[string]any{"tenant_service_accounts": map[string]string{"notes": alphaRunner}}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := configured(t, tc.extra)
			spec := withDeps("notes", "identity", map[string][]string{"web": {"api"}, "api": nil})
			plan, err := b.Plan(ctx(t), &sdk.PlanRequest{Deployment: spec})
			if err != nil {
				t.Fatalf("plan: %v", err)
			}
			var got []string
			for _, n := range plan.Compatibility {
				if n.Field != "identity" {
					continue
				}
				got = append(got, n.Service+" "+string(n.Level))
				for _, w := range append(tc.want, "secrets", "roles/run.invoker", "one backend per tenant", "tenant_service_accounts") {
					if !strings.Contains(n.Detail, w) {
						t.Errorf("the note %q does not say %q", n.Detail, w)
					}
				}
			}
			var want []string
			if tc.want != nil {
				want = []string{"api approximated", "web approximated"}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("identity notes (-want +got):\n%s", diff)
			}
		})
	}
}

// TestOperatorsInvokerSurvivesACutApply: an apply cut short after the
// update that names the invoker account on a service and before the
// grant does not take the operator's binding, made before, for its own:
// a later apply that drops the dependency leaves it.
func TestOperatorsInvokerSurvivesACutApply(t *testing.T) {
	b := configured(t, map[string]any{"service_account": runner})
	const invoker = "roles/run.invoker serviceAccount:" + runner
	var state []byte
	apply := func(c context.Context, deps map[string][]string) (core.DeploymentRef, error) {
		t.Helper()
		spec := withDeps("invokers", "cut", deps)
		resp, err := b.Apply(c, &sdk.ApplyRequest{Deployment: spec, PriorState: state}, func(core.Event) {})
		if resp != nil {
			state = resp.State
		}
		return spec.Ref(), err
	}
	ref, err := apply(ctx(t), map[string][]string{"web": nil, "api": nil})
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	t.Cleanup(func() { b.Destroy(context.Background(), &sdk.DestroyRequest{Deployment: ref}) })
	// The operator lets the runner call api, by hand.
	edit(t, ref, "api", func(p *iampb.Policy) {
		p.Bindings = append(p.Bindings, &iampb.Binding{Role: "roles/run.invoker", Members: []string{"serviceAccount:" + runner}})
	})
	// web now calls api: the apply is cut short once Cloud Run has taken
	// api's update, which names the runner, before the grant.
	cut, cancel := context.WithCancel(ctx(t))
	defer cancel()
	grants := fake.Calls("Services/SetIamPolicy")
	fake.AfterCall("UpdateService", cancel)
	if _, err := apply(cut, map[string][]string{"web": {"api"}, "api": nil}); err == nil {
		t.Fatal("the cut apply succeeded")
	}
	if got := servicesOf(ref)["api"].Annotations["alphaswarm.io/invoker"]; got != runner {
		t.Fatalf("after the cut apply, api's invoker annotation is %q, want %q: the cut came before the update", got, runner)
	}
	steps := []struct {
		name string
		deps map[string][]string
		want map[string][]string
	}{
		{"the apply again", map[string][]string{"web": {"api"}, "api": nil}, map[string][]string{"web": nil, "api": {invoker}}},
		{"web no longer calls api", map[string][]string{"web": nil, "api": nil}, map[string][]string{"web": nil, "api": {invoker}}},
	}
	for _, step := range steps {
		if _, err := apply(ctx(t), step.deps); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		if diff := cmp.Diff(step.want, policiesOf(ref)); diff != "" {
			t.Errorf("%s: policies (-want +got):\n%s", step.name, diff)
		}
	}
	if n := fake.Calls("Services/SetIamPolicy") - grants; n != 0 {
		t.Errorf("the applies wrote %d policies, want none: the binding was the operator's", n)
	}
}
