// Package credentials turns secret references into values at the last
// moment: the apply path asks a Resolver for the values of a deployment's
// secret("...") references, holds them in memory for the one call that needs
// them, and never writes them anywhere. Secret stores are registered by
// name; the environment ("env") and a directory of files ("dir", the shape
// of Docker and Kubernetes secret mounts) come built in.
//
// A store holds two namespaces that never meet: each tenant's own secrets,
// the only ones a deployment's secret("...") can name, and the operator's
// (backend credentials), which no tenant can name at all.
package credentials

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sync"

	"github.com/alphaswarm/controller/core"
)

// SecretStore looks up secret values by name, such as "trading/db-password".
type SecretStore interface {
	// Lookup returns the operator's secret name, or an error wrapping
	// ErrNotFound.
	Lookup(ctx context.Context, name string) (string, error)
	// LookupTenant returns tenant's secret name, or an error wrapping
	// ErrNotFound. No name of one tenant reaches another tenant's secrets
	// or the operator's.
	LookupTenant(ctx context.Context, tenant, name string) (string, error)
}

// ErrNotFound says a store has no secret of that name.
var ErrNotFound = errors.New("secret not found")

// MaxValueBytes bounds one secret value.
const MaxValueBytes = 1 << 20

// validName is the grammar of a secret name: path segments of letters,
// digits, '.', '_' and '-', separated by '/', never "." or "..".
var validName = regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9._-]*(/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$`)

// checkTenant rejects a tenant that is not a DNS label, as tenants are.
func checkTenant(tenant string) error {
	if !core.IsName(tenant) {
		return fmt.Errorf("tenant %q is not a valid name", tenant)
	}
	return nil
}

// CheckName rejects names a store could misread (empty, absolute, "..").
func CheckName(name string) error {
	if len(name) > 256 || !validName.MatchString(name) {
		return fmt.Errorf("secret name %q is not valid: use segments of letters, digits, '.', '_' and '-' separated by '/'", name)
	}
	return nil
}

// Factory makes a store from its settings.
type Factory func(settings map[string]string) (SecretStore, error)

var (
	mu        sync.Mutex
	factories = map[string]Factory{}
)

// Register makes a store kind available to Open under name.
func Register(name string, f Factory) {
	mu.Lock()
	defer mu.Unlock()
	factories[name] = f
}

// Open makes a store of the registered kind name.
func Open(name string, settings map[string]string) (SecretStore, error) {
	mu.Lock()
	f, ok := factories[name]
	kinds := make([]string, 0, len(factories))
	for k := range factories {
		kinds = append(kinds, k)
	}
	mu.Unlock()
	if !ok {
		slices.Sort(kinds)
		return nil, fmt.Errorf("open secret store: no store kind %q (known: %v)", name, kinds)
	}
	return f(settings)
}

// Resolver resolves references against a store.
type Resolver struct {
	Store SecretStore
	// StoreName names the store in errors.
	StoreName string
}

// Resolve returns the value of every secret the deployment references,
// keyed by reference, from its tenant's secrets. A missing secret fails
// with its name, never a value.
func (r *Resolver) Resolve(ctx context.Context, d *core.DeploymentSpec) (map[string]string, error) {
	values := map[string]string{}
	for _, s := range d.Services {
		for _, ref := range s.SecretEnv {
			if _, done := values[ref.Ref]; done {
				continue
			}
			if err := CheckName(ref.Ref); err != nil {
				return nil, fmt.Errorf("service %q: %w", s.Name, err)
			}
			v, err := r.Store.LookupTenant(ctx, d.Tenant, ref.Ref)
			if err != nil {
				return nil, fmt.Errorf("resolve secret %q of tenant %s for service %q (%s) from the %s store: %w", ref.Ref, d.Tenant, s.Name, ref.Env, r.StoreName, err)
			}
			values[ref.Ref] = v
		}
	}
	return values, nil
}
