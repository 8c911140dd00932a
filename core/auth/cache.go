package auth

import (
	"crypto/sha256"
	"sync"
	"time"
)

// maxCachedTokens bounds the verified-token cache.
const maxCachedTokens = 4096

// tokenCache remembers verified tokens, by their SHA-256, for at most the
// cache TTL and never past their expiry, so a client that sends the same
// token with every request pays for the RS256 check once. Only successes
// are cached: a forged token is checked (and refused) every time.
type tokenCache struct {
	ttl time.Duration

	mu      sync.Mutex
	entries map[[sha256.Size]byte]cachedToken
}

type cachedToken struct {
	p     Principal
	until time.Time
}

func newTokenCache(ttl time.Duration) *tokenCache {
	return &tokenCache{ttl: ttl, entries: map[[sha256.Size]byte]cachedToken{}}
}

func (c *tokenCache) get(token string, now time.Time) (*Principal, bool) {
	if c.ttl <= 0 {
		return nil, false
	}
	key := sha256.Sum256([]byte(token))
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok || !now.Before(e.until) {
		delete(c.entries, key)
		return nil, false
	}
	p := e.p
	return &p, true
}

func (c *tokenCache) put(token string, p *Principal, now, expiry time.Time) {
	if c.ttl <= 0 {
		return
	}
	until := now.Add(c.ttl)
	if !expiry.IsZero() && expiry.Before(until) {
		until = expiry
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= maxCachedTokens {
		for k, e := range c.entries {
			if !now.Before(e.until) || len(c.entries) >= maxCachedTokens {
				delete(c.entries, k)
			}
		}
	}
	c.entries[sha256.Sum256([]byte(token))] = cachedToken{p: *p, until: until}
}
