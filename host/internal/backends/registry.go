// Package backends holds the backends an operator registers with the
// controller: for each, its plugin's configuration (host addresses, paths,
// credentials by reference, namespaces, prefixes) and which tenants may
// deploy there, in which environments. Tenants' topologies refer to a
// registered backend by "<type>.<name>" and may set only what its plugin
// marks tenant-settable; the Registry builds each tenant's plugin instance
// from the operator's configuration, resolving credentials from the
// operator's secret store at that moment, so they reach no database, log,
// answer or plugin environment.
package backends

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/alphaswarm/controller/core/credentials"
	"github.com/alphaswarm/controller/host/internal/pluginmgr"
	"github.com/alphaswarm/controller/host/internal/topology"
	"github.com/alphaswarm/controller/sdk"
)

// AllTenants and AllEnvironments in a grant mean every one.
const (
	AllTenants      = "*"
	AllEnvironments = "*"
)

// Grant lets tenants deploy to a backend in environments.
type Grant struct {
	Tenants      []string
	Environments []string
}

func (g Grant) allows(tenant, env string) bool {
	return (slices.Contains(g.Tenants, AllTenants) || slices.Contains(g.Tenants, tenant)) &&
		(env == "" || slices.Contains(g.Environments, AllEnvironments) || slices.Contains(g.Environments, env))
}

// Backend is one registered backend.
type Backend struct {
	Type, Name string
	Grants     []Grant
	// DeclRange is where the configuration file declares it.
	DeclRange hcl.Range
	// SharedOpenly lets its tenants see the details of its nodes (labels,
	// which count every tenant's workloads and name the host's addresses);
	// otherwise they see each node's name, health and capacity.
	SharedOpenly bool

	body   hcl.Body        // the config block, decoded by Bind
	config json.RawMessage // decoded; credentials as references
	schema sdk.Schema
	bound  bool
}

// ID is "<type>.<name>", as topologies refer to it.
func (b *Backend) ID() string { return b.Type + "." + b.Name }

// Granted reports whether tenant may deploy to the backend in env.
func (b *Backend) Granted(tenant, env string) bool {
	return slices.ContainsFunc(b.Grants, func(g Grant) bool { return g.allows(tenant, env) })
}

// GrantedTo reports whether tenant may deploy to the backend at all, and
// in which environments ("*" for all).
func (b *Backend) GrantedTo(tenant string) (bool, []string) {
	var envs []string
	for _, g := range b.Grants {
		if g.allows(tenant, "") {
			envs = append(envs, g.Environments...)
		}
	}
	slices.Sort(envs)
	envs = slices.Compact(envs)
	if slices.Contains(envs, AllEnvironments) {
		envs = []string{AllEnvironments}
	}
	return len(envs) > 0, envs
}

// Schema is the configuration schema of the backend's plugin, once bound.
func (b *Backend) Schema() sdk.Schema { return b.schema }

// Registry is the set of registered backends. It is read-only once bound,
// and safe for concurrent use.
type Registry struct {
	backends map[string]*Backend
	// Secrets holds the operator's credentials, which credential("...")
	// names in configurations.
	Secrets credentials.SecretStore
	// marker starts the placeholder of a credential reference in a decoded
	// configuration; it is random per process.
	marker string
}

// New returns an empty registry that resolves credentials from secrets.
func New(secrets credentials.SecretStore) *Registry {
	nonce := make([]byte, 12)
	rand.Read(nonce)
	return &Registry{backends: map[string]*Backend{}, Secrets: secrets, marker: "\x00credential-" + hex.EncodeToString(nonce) + ":"}
}

// Add registers b; it fails if its ID is taken.
func (r *Registry) Add(b *Backend) error {
	if _, taken := r.backends[b.ID()]; taken {
		return fmt.Errorf("register backend %s: already registered", b.ID())
	}
	r.backends[b.ID()] = b
	return nil
}

// Lookup returns the backend called id, or nil (as a nil registry does).
func (r *Registry) Lookup(id string) *Backend {
	if r == nil {
		return nil
	}
	return r.backends[id]
}

// List returns the backends by ID.
func (r *Registry) List() []*Backend {
	if r == nil {
		return nil
	}
	out := make([]*Backend, 0, len(r.backends))
	for _, id := range slices.Sorted(maps.Keys(r.backends)) {
		out = append(out, r.backends[id])
	}
	return out
}

// IDs lists the backends tenant may use, for messages.
func (r *Registry) IDs(tenant string) []string {
	var ids []string
	for _, b := range r.List() {
		if ok, _ := b.GrantedTo(tenant); ok {
			ids = append(ids, b.ID())
		}
	}
	return ids
}

// ErrNotRegistered says no operator registered the backend.
var ErrNotRegistered = errors.New("not registered on this controller")

// Instance is the plugin instance that runs tenant's work on backend id:
// the operator's configuration with what the tenant may set laid over it,
// and credentials resolved now. Each tenant gets processes of its own.
func (r *Registry) Instance(ctx context.Context, tenant, id string, tenantConfig json.RawMessage) (pluginmgr.InstanceConfig, error) {
	b := r.Lookup(id)
	if b == nil || !b.bound {
		return pluginmgr.InstanceConfig{}, fmt.Errorf("backend %s: %w", id, ErrNotRegistered)
	}
	config, err := overlay(b.config, tenantConfig, topology.TenantPart(b.schema))
	if err != nil {
		return pluginmgr.InstanceConfig{}, fmt.Errorf("backend %s: %w", id, err)
	}
	resolved, err := r.resolve(ctx, config)
	if err != nil {
		return pluginmgr.InstanceConfig{}, fmt.Errorf("backend %s: %w", id, err)
	}
	return pluginmgr.InstanceConfig{Name: tenant + "/" + id, Plugin: b.Type, Config: resolved}, nil
}

// overlay lays what a tenant set over the operator's configuration, taking
// only the attributes and blocks the tenant part of the schema holds, so a
// configuration recorded before backends were registered cannot carry an
// operator's setting.
func overlay(operator, tenant json.RawMessage, part sdk.Schema) (json.RawMessage, error) {
	var base map[string]json.RawMessage
	if err := json.Unmarshal(operator, &base); err != nil {
		return nil, fmt.Errorf("read the registered configuration: %w", err)
	}
	var mine map[string]json.RawMessage
	if len(tenant) > 0 && string(tenant) != "null" {
		if err := json.Unmarshal(tenant, &mine); err != nil {
			return nil, fmt.Errorf("read the topology's settings: %w", err)
		}
	}
	allowed := map[string]bool{}
	for _, a := range part.Attributes {
		allowed[a.Name] = true
	}
	for _, blk := range part.Blocks {
		allowed[blk.Name] = true
	}
	for k, v := range mine {
		if allowed[k] && string(v) != "null" {
			base[k] = v
		}
	}
	return json.Marshal(base)
}

// resolve replaces each credential reference of a configuration with its
// value from the operator's secret store. A failure names the credential,
// never a value.
func (r *Registry) resolve(ctx context.Context, config json.RawMessage) (json.RawMessage, error) {
	var v any
	if err := json.Unmarshal(config, &v); err != nil {
		return nil, err
	}
	v, err := r.resolveValue(ctx, v)
	if err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

func (r *Registry) resolveValue(ctx context.Context, v any) (any, error) {
	switch t := v.(type) {
	case string:
		name, ok := strings.CutPrefix(t, r.marker)
		if !ok {
			return t, nil
		}
		if r.Secrets == nil {
			return nil, errors.New("its configuration names a credential and the controller has no secret store")
		}
		value, err := r.Secrets.Lookup(ctx, name)
		if err != nil {
			return nil, fmt.Errorf("credential %q: %w", name, err)
		}
		return value, nil
	case []any:
		for i := range t {
			var err error
			if t[i], err = r.resolveValue(ctx, t[i]); err != nil {
				return nil, err
			}
		}
	case map[string]any:
		for k := range t {
			var err error
			if t[k], err = r.resolveValue(ctx, t[k]); err != nil {
				return nil, err
			}
		}
	}
	return v, nil
}

// DiagnosticsError renders error diagnostics one per line, with their
// source position, as one error; nil when there is none.
func DiagnosticsError(diags hcl.Diagnostics) error {
	var lines []string
	for _, d := range diags {
		if d.Severity != hcl.DiagError {
			continue
		}
		at := ""
		if d.Subject != nil {
			at = d.Subject.String() + ": "
		}
		lines = append(lines, fmt.Sprintf("%s%s: %s", at, d.Summary, d.Detail))
	}
	if len(lines) == 0 {
		return nil
	}
	return errors.New(strings.Join(lines, "\n"))
}
