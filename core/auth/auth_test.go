package auth_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/alphaswarm/controller/core/auth"
	"github.com/alphaswarm/controller/core/auth/authtest"
	"github.com/alphaswarm/controller/core/auth/devissuer"
)

const audience = "https://api.alphaswarm.test"

func startIssuer(t *testing.T) *devissuer.Issuer {
	t.Helper()
	key, err := devissuer.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	iss, err := devissuer.Start("127.0.0.1:0", audience, key)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { iss.Close() })
	return iss
}

// server answers 200 with the principal's tenant, or the verifier's status
// and reason, the way the host's middleware does.
func server(t *testing.T, v auth.Verifier) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, err := auth.BearerToken(r)
		var p *auth.Principal
		if err == nil {
			p, err = v.Verify(r.Context(), tok)
		}
		var ae *auth.Error
		if errors.As(err, &ae) {
			http.Error(w, ae.Reason, ae.Status)
			return
		}
		if err != nil {
			t.Errorf("verify returned %T, not *auth.Error: %v", err, err)
			http.Error(w, err.Error(), 500)
			return
		}
		fmt.Fprint(w, p.Tenant)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, url, header string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if header != "" {
		req.Header.Set("Authorization", header)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func newVerifier(t *testing.T, iss *devissuer.Issuer, mod func(*auth.Config)) auth.Verifier {
	t.Helper()
	cfg := auth.Config{Issuer: iss.URL, Audience: audience}
	if mod != nil {
		mod(&cfg)
	}
	v, err := auth.New("auth0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

var base = devissuer.Claims{Subject: "auth0|alice", Tenant: "acme", Environments: []string{"prod"}, Permissions: []string{"deployments:read"}}

func TestAttackTable(t *testing.T) {
	t.Parallel()
	iss := startIssuer(t)
	srv := server(t, newVerifier(t, iss, nil))
	for _, c := range authtest.Cases(t, iss, base) {
		t.Run(c.Name, func(t *testing.T) {
			status, body := get(t, srv.URL, c.Header)
			if status != c.Status || !strings.Contains(body, c.Reason) {
				t.Errorf("got %d %q, want %d containing %q", status, strings.TrimSpace(body), c.Status, c.Reason)
			}
		})
	}
}

func TestForgedKeyIDsFetchKeysRarely(t *testing.T) {
	t.Parallel()
	iss := startIssuer(t)
	srv := server(t, newVerifier(t, iss, nil))
	if status, _ := get(t, srv.URL, mint(t, iss.Signer())); status != http.StatusOK {
		t.Fatalf("valid token: %d", status)
	}
	before := iss.JWKSFetches()
	for i := range 200 {
		forger := &devissuer.Signer{Issuer: iss.URL, Audience: audience, Key: iss.Signer().Key}
		tok, err := forger.SignJSON(forger.Claims(base), map[string]any{"kid": fmt.Sprintf("forged-%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		if status, _ := get(t, srv.URL, "Bearer "+tok); status != http.StatusUnauthorized {
			t.Fatalf("forged token %d: %d", i, status)
		}
	}
	if n := iss.JWKSFetches() - before; n > 1 {
		t.Errorf("200 forged key ids caused %d JWKS fetches; want at most 1 within MinRefetch", n)
	}
}

func mint(t *testing.T, s *devissuer.Signer) string {
	t.Helper()
	tok, err := s.Mint(base)
	if err != nil {
		t.Fatal(err)
	}
	return "Bearer " + tok
}

func TestKeyRotation(t *testing.T) {
	t.Parallel()
	iss := startIssuer(t)
	const ttl = 300 * time.Millisecond
	srv := server(t, newVerifier(t, iss, func(c *auth.Config) { c.MinRefetch, c.KeyTTL, c.CacheTTL = 20*time.Millisecond, ttl, -1 }))
	oldSigner := iss.Signer()
	oldTok := mint(t, oldSigner)
	expect := func(step, header string, want int) {
		t.Helper()
		if status, body := get(t, srv.URL, header); status != want {
			t.Errorf("%s: got %d %s, want %d", step, status, strings.TrimSpace(body), want)
		}
	}
	expect("old key before rotation", oldTok, http.StatusOK)
	next, err := devissuer.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	iss.Rotate(next)
	time.Sleep(30 * time.Millisecond) // past MinRefetch
	newTok := mint(t, iss.Signer())
	expect("new key after rotation", newTok, http.StatusOK)
	expect("old key while still published", oldTok, http.StatusOK)
	iss.RemoveKey(devissuer.KeyID(&oldSigner.Key.PublicKey))
	time.Sleep(ttl + 50*time.Millisecond) // cached keys go stale
	expect("old key after removal", oldTok, http.StatusUnauthorized)
	expect("new key after removal of the old", newTok, http.StatusOK)
}

func TestIssuerUnreachableIsUnavailable(t *testing.T) {
	t.Parallel()
	iss := startIssuer(t)
	tok := mint(t, iss.Signer())
	v := newVerifier(t, iss, nil)
	iss.Close()
	_, err := v.Verify(t.Context(), strings.TrimPrefix(tok, "Bearer "))
	var ae *auth.Error
	if !errors.As(err, &ae) || ae.Status != http.StatusServiceUnavailable || !strings.Contains(ae.Reason, "discover issuer") {
		t.Fatalf("got %v, want a 503 naming discovery", err)
	}
	if strings.Contains(err.Error(), strings.TrimPrefix(tok, "Bearer ")) {
		t.Error("the error repeats the token")
	}
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		provider string
		cfg      auth.Config
		want     string
	}{
		{"auth0", auth.Config{Issuer: "https://acme.eu.auth0.com", Audience: audience}, `must end with "/", as Auth0 writes it in tokens: use "https://acme.eu.auth0.com/"`},
		{"auth0", auth.Config{Issuer: "http://auth.example.com/", Audience: audience}, "must use https (http only on loopback)"},
		{"auth0", auth.Config{Issuer: "https://acme.eu.auth0.com/"}, "audience (API identifier) is empty"},
		{"auth0", auth.Config{Issuer: "not a url", Audience: audience}, "is not an absolute URL"},
		{"oidc", auth.Config{Issuer: "https://id.example.com/", Audience: audience}, "no tenant claim is configured"},
		{"saml", auth.Config{}, `unknown identity provider "saml" (known: auth0, oidc)`},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			_, err := auth.New(tt.provider, tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want %q", err, tt.want)
			}
		})
	}
}

func TestGenericOIDCReadsConfiguredClaims(t *testing.T) {
	t.Parallel()
	iss := startIssuer(t)
	v, err := auth.New("oidc", auth.Config{Issuer: iss.URL, Audience: audience, TenantClaim: "https://example.com/team", PermissionsClaim: "scope"})
	if err != nil {
		t.Fatal(err)
	}
	c := base
	c.Extra = map[string]any{"https://example.com/team": "blue", "scope": "deployments:read backends:read"}
	tok, err := iss.Mint(c)
	if err != nil {
		t.Fatal(err)
	}
	p, err := v.Verify(t.Context(), tok)
	if err != nil {
		t.Fatal(err)
	}
	want := &auth.Principal{Subject: "auth0|alice", Tenant: "blue", Environments: []string{"prod"}, Permissions: []auth.Permission{auth.DeploymentsRead, auth.BackendsRead}}
	if diff := cmp.Diff(want, p); diff != "" {
		t.Errorf("principal (-want +got):\n%s", diff)
	}
}

// TestVerifiedTokensAreCachedUntilExpiry checks the cache: a verified token
// keeps verifying while the issuer is away, but not past its expiry, and a
// refused token is never cached.
func TestVerifiedTokensAreCachedUntilExpiry(t *testing.T) {
	t.Parallel()
	iss := startIssuer(t)
	now := time.Now()
	clock := func() time.Time { return now }
	v := newVerifier(t, iss, func(c *auth.Config) { c.Now = clock })
	c := base
	c.TTL = 10 * time.Second
	tok, err := iss.Mint(c)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(t.Context(), tok); err != nil {
		t.Fatal(err)
	}
	iss.Close() // from now on only the cache can answer
	if p, err := v.Verify(t.Context(), tok); err != nil || p.Tenant != "acme" {
		t.Fatalf("cached token: %v %v", p, err)
	}
	now = now.Add(11 * time.Second) // past the token's expiry, within the cache TTL
	if _, err := v.Verify(t.Context(), tok); err == nil {
		t.Fatal("an expired token was answered from the cache")
	}
	if _, err := v.Verify(t.Context(), tok+"x"); err == nil {
		t.Fatal("a tampered token verified")
	}
}
