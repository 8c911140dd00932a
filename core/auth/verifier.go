package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

// MaxTokenBytes bounds an access token; a longer one is refused unparsed.
const MaxTokenBytes = 8 << 10

// clockLeeway is how far in the future iat and nbf may lie, for clock skew.
const clockLeeway = time.Minute

// Verifier turns an access token into a Principal, or refuses it with an
// *Error.
type Verifier interface {
	Verify(ctx context.Context, token string) (*Principal, error)
}

// Config configures a token verifier.
type Config struct {
	// Issuer is the issuer URL exactly as tokens carry it; Auth0's ends
	// with a slash.
	Issuer string
	// Audience is the API identifier; the token's aud must include it.
	Audience string
	// TenantClaim names the claim holding the tenant (auth0: "org_id").
	TenantClaim string
	// EnvironmentsClaim names the claim listing the granted environments.
	EnvironmentsClaim string
	// PermissionsClaim names the permissions claim (default "permissions");
	// an array of strings, or one space-separated string.
	PermissionsClaim string
	// HTTPClient fetches discovery and keys (default: 10s timeout).
	HTTPClient *http.Client
	// MinRefetch is the least time between two JWKS fetches caused by
	// unknown key ids (default 10s); KeyTTL is how long fetched keys are
	// trusted before they are fetched again (default 5m), so a key removed
	// from the JWKS stops verifying.
	MinRefetch, KeyTTL time.Duration
	// CacheTTL is how long a verified token is remembered, never past its
	// expiry (default 30s; negative: not at all). A key removed from the
	// JWKS stops verifying after KeyTTL plus CacheTTL at most.
	CacheTTL time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// DefaultEnvironmentsClaim is the namespaced claim an Auth0 Action adds to
// list the environments a user may reach.
const DefaultEnvironmentsClaim = "https://alphaswarm.dev/environments"

func (c *Config) defaults() {
	if c.EnvironmentsClaim == "" {
		c.EnvironmentsClaim = DefaultEnvironmentsClaim
	}
	if c.PermissionsClaim == "" {
		c.PermissionsClaim = "permissions"
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	c.HTTPClient = limitResponses(c.HTTPClient)
	if c.MinRefetch <= 0 {
		c.MinRefetch = 10 * time.Second
	}
	if c.KeyTTL <= 0 {
		c.KeyTTL = 5 * time.Minute
	}
	if c.CacheTTL == 0 {
		c.CacheTTL = 30 * time.Second
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

func (c *Config) check() error {
	u, err := url.Parse(c.Issuer)
	switch {
	case c.Issuer == "" || err != nil || u.Host == "":
		return fmt.Errorf("configure verifier: issuer %q is not an absolute URL", c.Issuer)
	case u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname())):
		return fmt.Errorf("configure verifier: issuer %q must use https (http only on loopback)", c.Issuer)
	case c.Audience == "":
		return errors.New("configure verifier: the audience (API identifier) is empty")
	case c.TenantClaim == "":
		return errors.New("configure verifier: no tenant claim is configured")
	}
	return nil
}

func isLoopback(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

// Error is a refused token: Status is 401 for a bad token, 403 for a valid
// token that grants nothing here, 503 when the issuer cannot be reached.
// Reason never contains the token.
type Error struct {
	Status int
	Reason string
}

func (e *Error) Error() string { return "verify token: " + e.Reason }

func unauthenticated(format string, args ...any) *Error {
	return &Error{Status: http.StatusUnauthorized, Reason: fmt.Sprintf(format, args...)}
}

// oidcVerifier verifies tokens of one OpenID Connect issuer with go-oidc.
type oidcVerifier struct {
	cfg   Config
	cache *tokenCache

	mu       sync.Mutex
	verifier *oidc.IDTokenVerifier
	keys     *keySet
	failedAt time.Time // last failed discovery, to avoid retrying on every request
}

// NewOIDC returns a verifier for any OpenID Connect issuer. Discovery runs
// at the first token, and again after a failure, so the host may start
// before its issuer answers.
func NewOIDC(cfg Config) (Verifier, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	cfg.defaults()
	return &oidcVerifier{cfg: cfg, cache: newTokenCache(cfg.CacheTTL)}, nil
}

// Verify checks token and returns its principal.
func (v *oidcVerifier) Verify(ctx context.Context, token string) (*Principal, error) {
	switch {
	case token == "":
		return nil, unauthenticated("no bearer token")
	case len(token) > MaxTokenBytes:
		return nil, unauthenticated("token is %d bytes; at most %d are accepted", len(token), MaxTokenBytes)
	}
	now := v.cfg.Now()
	if p, ok := v.cache.get(token, now); ok {
		return p, nil
	}
	verifier, err := v.discover(ctx)
	if err != nil {
		return nil, err
	}
	idt, err := verifier.Verify(oidc.ClientContext(ctx, v.cfg.HTTPClient), token)
	if err != nil {
		return nil, verifyError(err)
	}
	var payload rawJSON
	if err := idt.Claims(&payload); err != nil {
		return nil, unauthenticated("token claims are not a JSON object")
	}
	p, err := v.principal(payload)
	if err == nil {
		v.cache.put(token, p, now, idt.Expiry)
	}
	return p, err
}

func verifyError(err error) *Error {
	var expired *oidc.TokenExpiredError
	var unavailable *issuerUnavailableError
	switch {
	case errors.As(err, &expired):
		return unauthenticated("token expired at %s", expired.Expiry.UTC().Format(time.RFC3339))
	case errors.As(err, &unavailable):
		return &Error{Status: http.StatusServiceUnavailable, Reason: unavailable.Error()}
	}
	return unauthenticated("%s", strings.TrimPrefix(err.Error(), "oidc: "))
}

// discover fetches the issuer's discovery document once; after a failure it
// waits MinRefetch before trying again.
func (v *oidcVerifier) discover(ctx context.Context) (*oidc.IDTokenVerifier, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.verifier != nil {
		return v.verifier, nil
	}
	if !v.failedAt.IsZero() && v.cfg.Now().Sub(v.failedAt) < v.cfg.MinRefetch {
		return nil, &Error{Status: http.StatusServiceUnavailable, Reason: "the token issuer's discovery failed recently; retrying shortly"}
	}
	provider, err := oidc.NewProvider(oidc.ClientContext(ctx, v.cfg.HTTPClient), v.cfg.Issuer)
	var meta struct {
		JWKS string `json:"jwks_uri"`
	}
	if err == nil {
		err = provider.Claims(&meta)
	}
	if err == nil && meta.JWKS == "" {
		err = errors.New("the discovery document has no jwks_uri")
	}
	if err != nil {
		v.failedAt = v.cfg.Now()
		return nil, &Error{Status: http.StatusServiceUnavailable, Reason: fmt.Sprintf("discover issuer %s: %v", v.cfg.Issuer, err)}
	}
	v.keys = &keySet{url: meta.JWKS, client: v.cfg.HTTPClient, minRefetch: v.cfg.MinRefetch, ttl: v.cfg.KeyTTL, now: v.cfg.Now}
	v.verifier = oidc.NewVerifier(v.cfg.Issuer, v.keys, &oidc.Config{
		ClientID: v.cfg.Audience, SupportedSigningAlgs: []string{oidc.RS256}, Now: v.cfg.Now,
	})
	return v.verifier, nil
}
