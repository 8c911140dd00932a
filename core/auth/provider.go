package auth

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
)

// Factory builds a Verifier of one identity provider from cfg.
type Factory func(cfg Config) (Verifier, error)

var (
	registryMu sync.RWMutex
	registry   = map[string]Factory{"auth0": newAuth0, "oidc": NewOIDC}
)

// Register makes an identity provider available to New under name.
func Register(name string, f Factory) {
	registryMu.Lock()
	defer registryMu.Unlock()
	registry[name] = f
}

// Providers lists the registered identity providers.
func Providers() []string {
	registryMu.RLock()
	defer registryMu.RUnlock()
	var names []string
	for n := range registry {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// New builds the verifier of the identity provider called name.
func New(name string, cfg Config) (Verifier, error) {
	registryMu.RLock()
	f, ok := registry[name]
	registryMu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("configure verifier: unknown identity provider %q (known: %s)", name, strings.Join(Providers(), ", "))
	}
	return f(cfg)
}

// newAuth0 is an OIDC verifier with Auth0's conventions: the tenant in
// org_id unless configured, and an issuer that ends with a slash.
func newAuth0(cfg Config) (Verifier, error) {
	if cfg.TenantClaim == "" {
		cfg.TenantClaim = "org_id"
	}
	if u, err := url.Parse(cfg.Issuer); err == nil && u.Host != "" && !strings.HasSuffix(cfg.Issuer, "/") {
		return nil, fmt.Errorf("configure verifier: Auth0 issuer %q must end with \"/\", as Auth0 writes it in tokens: use %q", cfg.Issuer, cfg.Issuer+"/")
	}
	return NewOIDC(cfg)
}
