package auth

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// maxResponseBytes bounds what the issuer's discovery and JWKS documents may
// send back.
const maxResponseBytes = 1 << 20

// keySet holds the issuer's signing keys. Unlike go-oidc's RemoteKeySet, an
// unknown key id refetches the JWKS at most once per minRefetch: otherwise
// every forged token would cost a request to the issuer.
type keySet struct {
	url        string
	client     *http.Client
	minRefetch time.Duration
	ttl        time.Duration
	now        func() time.Time

	mu        sync.Mutex
	keys      map[string]*rsa.PublicKey
	fetchedAt time.Time // last successful fetch
	triedAt   time.Time // last attempt
}

// issuerUnavailableError says the JWKS could not be fetched.
type issuerUnavailableError struct{ err error }

func (e *issuerUnavailableError) Error() string {
	return "fetch the issuer's signing keys: " + e.err.Error()
}

// VerifySignature checks an RS256 signature against the key its kid names
// and returns the payload. Keys named by jku, x5u or an embedded jwk are
// never used: only the issuer's JWKS counts.
func (k *keySet) VerifySignature(ctx context.Context, token string) ([]byte, error) {
	jws, err := jose.ParseSigned(token, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return nil, fmt.Errorf("parse token: %w", err)
	}
	if len(jws.Signatures) != 1 {
		return nil, errors.New("token must carry exactly one signature")
	}
	kid := jws.Signatures[0].Header.KeyID
	if kid == "" {
		return nil, errors.New("token header has no kid")
	}
	key, err := k.key(ctx, kid)
	if err != nil {
		return nil, err
	}
	return jws.Verify(key)
}

func (k *keySet) key(ctx context.Context, kid string) (*rsa.PublicKey, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	now := k.now()
	stale := now.Sub(k.fetchedAt) > k.ttl
	if key, ok := k.keys[kid]; ok && !stale {
		return key, nil
	}
	if now.Sub(k.triedAt) < k.minRefetch && !k.fetchedAt.IsZero() {
		return nil, fmt.Errorf("signing key %q is not in the issuer's key set", kid)
	}
	k.triedAt = now
	keys, err := k.fetch(ctx)
	if err != nil {
		return nil, &issuerUnavailableError{err}
	}
	k.keys, k.fetchedAt = keys, now
	if key, ok := k.keys[kid]; ok {
		return key, nil
	}
	return nil, fmt.Errorf("signing key %q is not in the issuer's key set", kid)
}

// fetch reads the JWKS, keeping RSA signing keys of at least 2048 bits.
func (k *keySet) fetch(ctx context.Context) (map[string]*rsa.PublicKey, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, k.url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := k.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", k.url, resp.Status)
	}
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		return nil, fmt.Errorf("decode %s: %w", k.url, err)
	}
	keys := map[string]*rsa.PublicKey{}
	for _, jwk := range set.Keys {
		pub, ok := jwk.Key.(*rsa.PublicKey)
		if !ok || jwk.KeyID == "" || (jwk.Use != "" && jwk.Use != "sig") ||
			(jwk.Algorithm != "" && jwk.Algorithm != string(jose.RS256)) || pub.N.BitLen() < 2048 {
			continue
		}
		keys[jwk.KeyID] = pub
	}
	return keys, nil
}

// limitResponses returns a copy of c whose response bodies end after
// maxResponseBytes, so a hostile issuer cannot exhaust memory.
func limitResponses(c *http.Client) *http.Client {
	cp := *c
	base := cp.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	cp.Transport = roundTripFunc(func(r *http.Request) (*http.Response, error) {
		resp, err := base.RoundTrip(r)
		if err == nil {
			resp.Body = limitedBody{io.LimitReader(resp.Body, maxResponseBytes), resp.Body}
		}
		return resp, err
	})
	return &cp
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

type limitedBody struct {
	io.Reader
	io.Closer
}
