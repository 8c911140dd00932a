package devissuer

import (
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// EnvironmentsClaim is where minted tokens list their environments, the
// verifier's default namespaced claim.
const EnvironmentsClaim = "https://alphaswarm.dev/environments"

// Claims is what a minted token grants.
type Claims struct {
	Subject      string
	Tenant       string
	Environments []string
	Permissions  []string
	TTL          time.Duration // default 1h
	// Extra sets or replaces any claim, for tests of odd tokens.
	Extra map[string]any
}

// Signer mints tokens as one issuer, for one audience, with one key.
type Signer struct {
	Issuer, Audience string
	Key              *rsa.PrivateKey
}

// Mint signs an Auth0-shaped access token for c.
func (s *Signer) Mint(c Claims) (string, error) {
	return s.SignJSON(s.Claims(c), nil)
}

// Claims returns the claim set Mint would sign for c.
func (s *Signer) Claims(c Claims) map[string]any {
	if c.TTL == 0 {
		c.TTL = time.Hour
	}
	now := time.Now()
	m := map[string]any{
		"iss":             s.Issuer,
		"sub":             c.Subject,
		"aud":             []string{s.Audience, s.Issuer + "userinfo"},
		"iat":             now.Unix(),
		"exp":             now.Add(c.TTL).Unix(),
		"azp":             "swarmctl-dev",
		"scope":           "openid profile",
		"org_id":          c.Tenant,
		"permissions":     orEmpty(c.Permissions),
		EnvironmentsClaim: orEmpty(c.Environments),
	}
	for k, v := range c.Extra {
		m[k] = v
	}
	return m
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// SignJSON signs claims as they are, adding headers to the protected
// header (tests use it to try jku, x5u and jwk headers).
func (s *Signer) SignJSON(claims map[string]any, headers map[string]any) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	return s.SignPayload(payload, headers)
}

// SignPayload signs payload bytes exactly as given.
func (s *Signer) SignPayload(payload []byte, headers map[string]any) (string, error) {
	opts := (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", KeyID(&s.Key.PublicKey))
	for k, v := range headers {
		opts = opts.WithHeader(jose.HeaderKey(k), v)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: s.Key}, opts)
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("sign token: %w", err)
	}
	return jws.CompactSerialize()
}
