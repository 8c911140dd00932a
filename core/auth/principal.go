package auth

import (
	"fmt"
	"net/http"
	"slices"
)

// AllEnvironments in a token's environments claim grants every environment
// of the tenant. Without it, a principal sees only the environments listed.
const AllEnvironments = "*"

// Principal is a verified caller: who it is and what its token grants.
type Principal struct {
	Subject string
	// Tenant is the one tenant the token belongs to.
	Tenant string
	// Environments the token grants; AllEnvironments grants all of them.
	Environments []string
	Permissions  []Permission
}

// Has reports whether the token grants p.
func (p *Principal) Has(perm Permission) bool { return slices.Contains(p.Permissions, perm) }

// SeesEnvironment reports whether the token grants environment env.
func (p *Principal) SeesEnvironment(env string) bool {
	return slices.Contains(p.Environments, AllEnvironments) || slices.Contains(p.Environments, env)
}

// Sees reports whether a deployment of tenant in env is visible at all:
// a deployment the caller may not see does not exist for it.
func (p *Principal) Sees(tenant, env string) bool {
	return tenant == p.Tenant && p.SeesEnvironment(env)
}

// Filter is the part of a store query that limits a listing to what the
// principal may see. A nil Environments means every environment.
type Filter struct {
	Tenants      []string
	Environments []string
}

// Filter returns the principal's resource filter.
func (p *Principal) Filter() Filter {
	f := Filter{Tenants: []string{p.Tenant}}
	if !slices.Contains(p.Environments, AllEnvironments) {
		f.Environments = append([]string{}, p.Environments...)
	}
	return f
}

// Decision is the answer to "may this principal do that": allowed, or the
// HTTP status to answer and why.
type Decision struct {
	Allowed bool
	Status  int // http.StatusForbidden or http.StatusNotFound when denied
	Reason  string
}

// Authorize decides an operation needing perm on an existing deployment of
// tenant in env. A deployment the caller may not see answers 404, so its
// existence does not leak; a visible one without the permission answers 403.
func (p *Principal) Authorize(perm Permission, tenant, env string) Decision {
	if !p.Sees(tenant, env) {
		return Decision{Status: http.StatusNotFound, Reason: fmt.Sprintf("deployment not visible to tenant %q with environments %v", p.Tenant, p.Environments)}
	}
	return p.authorizePermission(perm)
}

// AuthorizeCreate decides an operation that names its target itself, such
// as applying a topology: another tenant or environment is 403, not 404,
// since the caller already named it.
func (p *Principal) AuthorizeCreate(perm Permission, tenant, env string) Decision {
	switch {
	case tenant != p.Tenant:
		return Decision{Status: http.StatusForbidden, Reason: fmt.Sprintf("the token's tenant is %q, not %q", p.Tenant, tenant)}
	case !p.SeesEnvironment(env):
		return Decision{Status: http.StatusForbidden, Reason: fmt.Sprintf("the token does not grant environment %q", env)}
	}
	return p.authorizePermission(perm)
}

// AuthorizeGlobal decides an operation on no deployment, such as listing
// backends or reading the audit log.
func (p *Principal) AuthorizeGlobal(perm Permission) Decision { return p.authorizePermission(perm) }

func (p *Principal) authorizePermission(perm Permission) Decision {
	if !p.Has(perm) {
		return Decision{Status: http.StatusForbidden, Reason: fmt.Sprintf("missing permission %s", perm)}
	}
	return Decision{Allowed: true}
}
