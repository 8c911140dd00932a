// Package authtest holds the table of hostile and broken access tokens that
// every HTTP surface checking tokens must refuse, built against a live
// devissuer. core/auth runs it against its verifier behind a test handler;
// the host runs the same table against its API server.
package authtest

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/alphaswarm/controller/core/auth/devissuer"
)

// Case is one request: the Authorization header it sends, the status it
// must get and a phrase the problem's detail must contain.
type Case struct {
	Name   string
	Header string
	Status int
	Reason string
}

// Cases builds the attack table. base is a token's claims that the server
// accepts with 200 on the route under test.
func Cases(t testing.TB, iss *devissuer.Issuer, base devissuer.Claims) []Case {
	t.Helper()
	s := iss.Signer()
	attacker := &devissuer.Signer{Issuer: iss.URL, Audience: iss.Audience, Key: newKey(t)}
	claims := func(set map[string]any) map[string]any {
		c := s.Claims(base)
		for k, v := range set {
			if v == nil {
				delete(c, k)
			} else {
				c[k] = v
			}
		}
		return c
	}
	sign := func(signer *devissuer.Signer, c map[string]any, hdr map[string]any) string {
		tok, err := signer.SignJSON(c, hdr)
		if err != nil {
			t.Fatal(err)
		}
		return "Bearer " + tok
	}
	now := time.Now()
	attackerJWK := jose.JSONWebKey{Key: &attacker.Key.PublicKey, KeyID: devissuer.KeyID(&attacker.Key.PublicKey), Algorithm: "RS256", Use: "sig"}
	kid := devissuer.KeyID(&s.Key.PublicKey)
	return []Case{
		{"valid", sign(s, claims(nil), nil), http.StatusOK, ""},
		{"valid, lower-case scheme", strings.Replace(sign(s, claims(nil), nil), "Bearer", "bearer", 1), http.StatusOK, ""},
		{"no token", "", http.StatusUnauthorized, "no bearer token"},
		{"basic scheme", "Basic dXNlcjpwYXNz", http.StatusUnauthorized, "Bearer <token>"},
		{"malformed", "Bearer not.a.jwt", http.StatusUnauthorized, "malformed"},
		{"alg none", "Bearer " + unsigned(t, kid, claims(nil)), http.StatusUnauthorized, "malformed"},
		{"HS256 keyed with the RSA public key", "Bearer " + hmacWithPublicKey(t, s, claims(nil)), http.StatusUnauthorized, "malformed"},
		{"expired", sign(s, claims(map[string]any{"exp": now.Add(-time.Minute).Unix()}), nil), http.StatusUnauthorized, "expired"},
		{"no exp", sign(s, claims(map[string]any{"exp": nil}), nil), http.StatusUnauthorized, "expired"},
		{"nbf in the future", sign(s, claims(map[string]any{"nbf": now.Add(time.Hour).Unix()}), nil), http.StatusUnauthorized, "nbf"},
		{"iat in the future", sign(s, claims(map[string]any{"iat": now.Add(time.Hour).Unix()}), nil), http.StatusUnauthorized, "iat"},
		{"wrong issuer", sign(s, claims(map[string]any{"iss": "https://evil.example/"}), nil), http.StatusUnauthorized, "different provider"},
		{"issuer without trailing slash", sign(s, claims(map[string]any{"iss": strings.TrimSuffix(iss.URL, "/")}), nil), http.StatusUnauthorized, "different provider"},
		{"wrong audience", sign(s, claims(map[string]any{"aud": []string{"https://other-api.example"}}), nil), http.StatusUnauthorized, "audience"},
		{"audience as a string", sign(s, claims(map[string]any{"aud": iss.Audience}), nil), http.StatusOK, ""},
		{"unknown key id", sign(attacker, claims(nil), nil), http.StatusUnauthorized, "not in the issuer's key set"},
		{"known key id, other key", sign(attacker, claims(nil), map[string]any{"kid": kid}), http.StatusUnauthorized, "signature"},
		{"jku header ignored", sign(attacker, claims(nil), map[string]any{"jku": iss.URL + ".well-known/jwks.json"}), http.StatusUnauthorized, "key set"},
		{"x5u header ignored", sign(attacker, claims(nil), map[string]any{"x5u": "https://evil.example/cert.pem"}), http.StatusUnauthorized, "key set"},
		{"embedded jwk ignored", sign(attacker, claims(nil), map[string]any{"jwk": attackerJWK}), http.StatusUnauthorized, "key set"},
		{"oversized", sign(s, claims(map[string]any{"pad": strings.Repeat("x", 9000)}), nil), http.StatusUnauthorized, "at most 8192"},
		{"duplicate claims", "Bearer " + duplicateClaims(t, s, claims(nil)), http.StatusUnauthorized, "repeats the claim \"permissions\""},
		{"no tenant", sign(s, claims(map[string]any{"org_id": nil}), nil), http.StatusForbidden, "no tenant"},
	}
}

func newKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	k, err := devissuer.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func segment(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

// unsigned is a token with alg "none" and an empty signature.
func unsigned(t testing.TB, kid string, claims map[string]any) string {
	t.Helper()
	return segment(map[string]any{"alg": "none", "typ": "JWT", "kid": kid}) + "." + segment(claims) + "."
}

// hmacWithPublicKey signs HS256 with the issuer's public key as the HMAC
// secret: the classic confusion of a verifier that trusts the alg header.
func hmacWithPublicKey(t testing.TB, s *devissuer.Signer, claims map[string]any) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(&s.Key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	secret := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	opts := (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", devissuer.KeyID(&s.Key.PublicKey))
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: secret}, opts)
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// duplicateClaims signs a payload whose permissions claim appears twice:
// first granting everything, then as issued.
func duplicateClaims(t testing.TB, s *devissuer.Signer, claims map[string]any) string {
	t.Helper()
	b, _ := json.Marshal(claims)
	payload := append([]byte(`{"permissions":["deployments:destroy","deployments:exec"],`), b[1:]...)
	tok, err := s.SignPayload(payload, nil)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
