// Package devissuer is a small OpenID Connect issuer for dev mode and
// tests: it serves discovery and a JWKS on loopback and mints access tokens
// shaped like Auth0's (audience array, org_id, permissions, a namespaced
// environments claim), signed RS256 with keys it can rotate. The host
// verifies them with the same code that verifies real Auth0 tokens.
//
// It is not an identity provider: anyone who can read its key can mint any
// token. Dev mode keeps the key under .swarm/ with mode 0600 and serves on
// loopback only.
package devissuer

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Issuer serves discovery and keys for URL and mints tokens for Audience.
type Issuer struct {
	URL      string // with a trailing slash, as Auth0 writes it
	Audience string

	srv         *http.Server
	jwksFetches atomic.Int64

	mu      sync.Mutex
	keys    []*rsa.PrivateKey // published keys
	current *rsa.PrivateKey   // the one that signs
}

// Start serves an issuer on addr (a loopback address such as
// "127.0.0.1:0") that publishes key and signs with it.
func Start(addr, audience string, key *rsa.PrivateKey) (*Issuer, error) {
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("start issuer: %w", err)
	}
	if tcp, ok := lis.Addr().(*net.TCPAddr); !ok || !tcp.IP.IsLoopback() {
		lis.Close()
		return nil, fmt.Errorf("start issuer: %s is not a loopback address", addr)
	}
	iss := &Issuer{URL: "http://" + lis.Addr().String() + "/", Audience: audience, keys: []*rsa.PrivateKey{key}, current: key}
	iss.srv = &http.Server{Handler: iss.routes(), ReadHeaderTimeout: 5 * time.Second}
	go iss.srv.Serve(lis)
	return iss, nil
}

// Close stops serving.
func (i *Issuer) Close() error { return i.srv.Shutdown(context.Background()) }

// JWKSFetches counts the requests for the key set so far.
func (i *Issuer) JWKSFetches() int64 { return i.jwksFetches.Load() }

func (i *Issuer) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, map[string]any{
			"issuer":                                i.URL,
			"jwks_uri":                              i.URL + ".well-known/jwks.json",
			"id_token_signing_alg_values_supported": []string{"RS256"},
			"response_types_supported":              []string{"token"},
			"subject_types_supported":               []string{"public"},
		})
	})
	mux.HandleFunc("GET /.well-known/jwks.json", func(w http.ResponseWriter, _ *http.Request) {
		i.jwksFetches.Add(1)
		writeJSON(w, i.jwks())
	})
	return mux
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

func (i *Issuer) jwks() jose.JSONWebKeySet {
	i.mu.Lock()
	defer i.mu.Unlock()
	var set jose.JSONWebKeySet
	for _, k := range i.keys {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: &k.PublicKey, KeyID: KeyID(&k.PublicKey), Algorithm: "RS256", Use: "sig"})
	}
	return set
}

// Rotate publishes key beside the current ones and signs with it from now
// on; tokens signed with older keys stay valid until RemoveKey.
func (i *Issuer) Rotate(key *rsa.PrivateKey) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.keys = append(i.keys, key)
	i.current = key
}

// RemoveKey stops publishing the key with id kid.
func (i *Issuer) RemoveKey(kid string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	var kept []*rsa.PrivateKey
	for _, k := range i.keys {
		if KeyID(&k.PublicKey) != kid {
			kept = append(kept, k)
		}
	}
	i.keys = kept
}

// Signer returns a signer for the current key.
func (i *Issuer) Signer() *Signer {
	i.mu.Lock()
	defer i.mu.Unlock()
	return &Signer{Issuer: i.URL, Audience: i.Audience, Key: i.current}
}

// Mint signs a token for c with the current key.
func (i *Issuer) Mint(c Claims) (string, error) { return i.Signer().Mint(c) }

// KeyID is the key id of pub: the start of its SHA-256 thumbprint, so a
// process that loads the same key file computes the same id.
func KeyID(pub *rsa.PublicKey) string {
	der, _ := x509.MarshalPKIXPublicKey(pub)
	sum := sha256.Sum256(der)
	return base64.RawURLEncoding.EncodeToString(sum[:12])
}

// NewKey generates a 2048-bit RSA signing key.
func NewKey() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, 2048) }

// LoadOrCreateKey reads the PEM key at path, creating it (mode 0600, its
// directory 0700) when it does not exist yet.
func LoadOrCreateKey(path string) (*rsa.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return createKey(path)
	}
	if err != nil {
		return nil, fmt.Errorf("read issuer key: %w", err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, fmt.Errorf("read issuer key: %s holds no PEM block", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("read issuer key %s: %w", path, err)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("read issuer key: %s is not an RSA key", path)
	}
	return rk, nil
}

func createKey(path string) (*rsa.PrivateKey, error) {
	k, err := NewKey()
	if err != nil {
		return nil, fmt.Errorf("create issuer key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, fmt.Errorf("create issuer key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create issuer key: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create issuer key: %w", err)
	}
	defer f.Close()
	if err := pem.Encode(f, &pem.Block{Type: "PRIVATE KEY", Bytes: der}); err != nil {
		return nil, fmt.Errorf("create issuer key: %w", err)
	}
	return k, f.Close()
}
