package gcp

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"cloud.google.com/go/iam/apiv1/iampb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/sdk"
)

// Cloud Run refuses a call to a service that is not public unless the
// caller's identity holds roles/run.invoker on it. With service_account
// set, or tenant_service_accounts, apply grants the deployment's runtime
// account (runtimeAccount) the role on each service another service
// of the deployment depends on, in the service's own IAM policy, and
// records the grant in the service's annotationInvoker; when no service
// depends on it any more, or service_account changes, apply removes that
// member from the role before it updates the service. Destroy needs
// nothing: a deleted service's policy goes with it.

const (
	// annotationInvoker, on a Cloud Run service, is the service account
	// apply grants roles/run.invoker on it.
	annotationInvoker = "alphaswarm.io/invoker"
	roleInvoker       = "roles/run.invoker"
	// policyVersion is the IAM policy version the plugin reads and writes:
	// 3, so that conditional bindings of others survive a write.
	policyVersion = 3
)

// policyRetry paces the read-modify-write of a policy whose write was
// refused because the policy changed since it was read (ABORTED, as
// Google asks: "retry the whole read-modify-write with exponential
// backoff") or because IAM was unavailable.
var policyRetry = struct {
	attempts int
	initial  time.Duration
}{attempts: 5, initial: 50 * time.Millisecond}

// invoked says which services of spec another of its services depends on:
// those whose callers need roles/run.invoker. A dependency that is not a
// service of spec grants nothing.
func invoked(spec *core.DeploymentSpec) map[string]bool {
	out := map[string]bool{}
	for _, s := range spec.Services {
		for _, d := range s.DependsOn {
			if d != s.Name && spec.Service(d) != nil {
				out[d] = true
			}
		}
	}
	return out
}

// invokerNotes report, without service_account, that callers run as the
// project's default compute service account, which the plugin cannot name
// and so cannot grant roles/run.invoker on the services they call.
func (b *Backend) invokerNotes(t target, spec *core.DeploymentSpec) []sdk.CompatibilityNote {
	if b.cfg.ServiceAccount != "" || len(b.cfg.TenantAccounts) > 0 {
		return nil
	}
	var notes []sdk.CompatibilityNote
	for _, s := range spec.Services {
		for _, d := range s.DependsOn {
			if d == s.Name || spec.Service(d) == nil {
				continue
			}
			notes = append(notes, sdk.CompatibilityNote{Service: s.Name, Field: "depends_on", Level: sdk.CompatApproximated,
				Detail: fmt.Sprintf("calls %s as the project's default compute service account (the backend sets no service_account): "+
					"Cloud Run refuses the call until the operator grants that account roles/run.invoker on Cloud Run service %s, or in the project", d, t.serviceID(d))})
		}
	}
	return notes
}

// identityNotes report, when every tenant of the backend runs as one
// account (service_account, or the default compute service account), that
// the deployment's services share that identity, and what it holds, with
// the services of every other tenant the operator grants the backend.
// One note per service: a compatibility note names a service, and swarmctl
// plan prints it as the service's.
func (b *Backend) identityNotes(spec *core.DeploymentSpec) []sdk.CompatibilityNote {
	if len(b.cfg.TenantAccounts) > 0 {
		return nil
	}
	account := "the project's default compute service account"
	if b.cfg.ServiceAccount != "" {
		account = "service account " + b.cfg.ServiceAccount + " (service_account)"
	}
	detail := fmt.Sprintf("runs as %s, as every service of every tenant granted this backend does: "+
		"any of them can use the secrets and roles/run.invoker grants that account holds, this deployment's too. "+
		"For an identity of the tenant's own, the operator registers one backend per tenant or sets tenant_service_accounts", account)
	var notes []sdk.CompatibilityNote
	for _, s := range spec.Services {
		notes = append(notes, sdk.CompatibilityNote{Service: s.Name, Field: "identity", Level: sdk.CompatApproximated, Detail: detail})
	}
	return notes
}

// invokers is what apply knows of the invoker grants of one deployment:
// the account to grant, and the services whose binding for an account was
// there before the plugin managed it (the operator's, kept in the state),
// which the plugin never removes.
type invokers struct {
	account string
	mu      sync.Mutex
	kept    map[string]string // service -> account
}

func (v *invokers) keep(service, account string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.kept[service] = account
}

// release says whether the plugin may remove account's binding on
// service, and forgets a kept one.
func (v *invokers) release(service, account string) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.kept[service] == account {
		delete(v.kept, service)
		return false
	}
	return true
}

// revokeInvoker removes the binding apply granted on the Cloud Run service
// name when the spec no longer wants it: prev is the account its
// annotation names, want the one the spec wants ("" none).
func (b *Backend) revokeInvoker(ctx context.Context, inv *invokers, service, name, prev, want string) error {
	if prev == "" || prev == want || !accountName.MatchString(prev) || !inv.release(service, prev) {
		return nil
	}
	what := fmt.Sprintf("remove %s's %s on Cloud Run service %s (service %s, no longer called)", prev, roleInvoker, short(name), service)
	_, err := b.editPolicy(ctx, what, name, func(p *iampb.Policy) bool { return removeMember(p, roleInvoker, "serviceAccount:"+prev) })
	return err
}

// keepOperatorsInvoker reads the IAM policy of the Cloud Run service name,
// whose annotation does not name the invoker account yet, and records the
// account's binding as kept when the operator made it. Apply calls it
// before the update that writes the annotation, so that an apply cut short
// between that update and the grant cannot take the operator's binding for
// its own.
func (b *Backend) keepOperatorsInvoker(ctx context.Context, inv *invokers, service, name string) error {
	member := "serviceAccount:" + inv.account
	held := false
	what := fmt.Sprintf("read the %s bindings of Cloud Run service %s (service %s)", roleInvoker, short(name), service)
	_, err := b.editPolicy(ctx, what, name, func(p *iampb.Policy) bool {
		held = hasMember(p, roleInvoker, member)
		return false
	})
	if err == nil && held {
		inv.keep(service, inv.account)
	}
	return err
}

// grantInvoker gives the account roles/run.invoker on the Cloud Run
// service name, unless it holds it.
func (b *Backend) grantInvoker(ctx context.Context, inv *invokers, service, name string) error {
	if inv.account == "" {
		return nil
	}
	what := fmt.Sprintf("grant %s %s on Cloud Run service %s (service %s, called by others of the deployment)", inv.account, roleInvoker, short(name), service)
	_, err := b.editPolicy(ctx, what, name, func(p *iampb.Policy) bool { return addMember(p, roleInvoker, "serviceAccount:"+inv.account) })
	return err
}

// editPolicy reads the IAM policy of the Cloud Run service name, lets
// edit change it, and writes it back with the etag it read, so that it
// never overwrites a change made in between. A write refused as ABORTED
// (the policy changed since the read) and a read or write refused as
// UNAVAILABLE start again from the read, with backoff, up to
// policyRetry.attempts times; the Run client retries neither call. edit
// returns false when the policy needs no change, and then nothing is
// written. It says whether it wrote.
func (b *Backend) editPolicy(ctx context.Context, what, name string, edit func(*iampb.Policy) bool) (bool, error) {
	wait := policyRetry.initial
	for attempt := 1; ; attempt++ {
		wrote, step, err := b.editOnce(ctx, name, edit)
		if err == nil {
			return wrote, nil
		}
		if c := status.Code(err); (c != codes.Aborted && c != codes.Unavailable) || attempt == policyRetry.attempts {
			return false, b.apiError(ctx, fmt.Sprintf("%s: %s (attempt %d of %d)", what, step, attempt, policyRetry.attempts), err)
		}
		select {
		case <-ctx.Done():
			return false, fmt.Errorf("%s: %w", what, ctx.Err())
		case <-time.After(wait):
		}
		wait *= 2
	}
}

// editOnce is one read-modify-write of editPolicy; step says which call
// failed.
func (b *Backend) editOnce(ctx context.Context, name string, edit func(*iampb.Policy) bool) (wrote bool, step string, err error) {
	p, err := b.run.GetIamPolicy(ctx, &iampb.GetIamPolicyRequest{Resource: name,
		Options: &iampb.GetPolicyOptions{RequestedPolicyVersion: policyVersion}})
	if err != nil {
		return false, "read the policy", err
	}
	if !edit(p) {
		return false, "", nil
	}
	p.Version = max(p.Version, policyVersion)
	if _, err := b.run.SetIamPolicy(ctx, &iampb.SetIamPolicyRequest{Resource: name, Policy: p}); err != nil {
		return false, "write the policy", err
	}
	return true, "", nil
}

// hasMember says whether the unconditional binding of role has member.
func hasMember(p *iampb.Policy, role, member string) bool {
	return slices.ContainsFunc(p.Bindings, func(bnd *iampb.Binding) bool {
		return bnd.Role == role && bnd.Condition == nil && slices.Contains(bnd.Members, member)
	})
}

// addMember adds member to the unconditional binding of role, and says
// whether it was missing.
func addMember(p *iampb.Policy, role, member string) bool {
	for _, bnd := range p.Bindings {
		if bnd.Role == role && bnd.Condition == nil {
			if slices.Contains(bnd.Members, member) {
				return false
			}
			bnd.Members = append(bnd.Members, member)
			return true
		}
	}
	p.Bindings = append(p.Bindings, &iampb.Binding{Role: role, Members: []string{member}})
	return true
}

// removeMember removes member from the unconditional binding of role,
// and that binding when it has no member left; it touches no other role,
// member or conditional binding. It says whether member was there.
func removeMember(p *iampb.Policy, role, member string) bool {
	for i, bnd := range p.Bindings {
		if bnd.Role != role || bnd.Condition != nil || !slices.Contains(bnd.Members, member) {
			continue
		}
		bnd.Members = slices.DeleteFunc(bnd.Members, func(m string) bool { return m == member })
		if len(bnd.Members) == 0 {
			p.Bindings = slices.Delete(p.Bindings, i, i+1)
		}
		return true
	}
	return false
}
