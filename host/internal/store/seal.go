package store

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// sealer encrypts plugin state at rest with AES-256-GCM. The first key
// encrypts; every key decrypts, so a key is rotated by putting a new one
// first and keeping the old one until every record was rewritten. The
// deployment's identity is authenticated data: a blob moved to another
// deployment's row does not decrypt.
type sealer struct {
	keys []sealKey
}

type sealKey struct {
	id   [4]byte // first bytes of SHA-256 of the key, to pick it on decryption
	aead cipher.AEAD
}

// sealVersion starts every sealed blob.
const sealVersion = "as1:"

// KeyFile is the state key's file in the data directory, when no key is
// configured.
const KeyFile = "state.key"

func newSealer(encodedKeys []string) (*sealer, error) {
	s := &sealer{}
	for i, enc := range encodedKeys {
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(enc))
		if err != nil || len(raw) != 32 {
			return nil, fmt.Errorf("state key %d: want 32 bytes, base64-encoded (openssl rand -base64 32)", i+1)
		}
		block, _ := aes.NewCipher(raw)
		aead, _ := cipher.NewGCM(block)
		sum := sha256.Sum256(raw)
		var k sealKey
		copy(k.id[:], sum[:4])
		k.aead = aead
		s.keys = append(s.keys, k)
	}
	if len(s.keys) == 0 {
		return nil, errors.New("no state key")
	}
	return s, nil
}

// dataDirKey reads the key file of dir, creating it (mode 0600) on first use.
func dataDirKey(dir string) (string, error) {
	path := filepath.Join(dir, KeyFile)
	b, err := os.ReadFile(path)
	if err == nil {
		return string(b), nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("read state key: %w", err)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	enc := base64.StdEncoding.EncodeToString(raw)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", fmt.Errorf("create state key: %w", err)
	}
	defer f.Close()
	if _, err := f.WriteString(enc + "\n"); err != nil {
		return "", fmt.Errorf("write state key: %w", err)
	}
	return enc, f.Sync()
}

func (s *sealer) seal(plain []byte, aad string) []byte {
	if plain == nil {
		return nil
	}
	k := s.keys[0]
	nonce := make([]byte, k.aead.NonceSize())
	rand.Read(nonce)
	out := append([]byte(sealVersion), k.id[:]...)
	out = append(out, nonce...)
	return k.aead.Seal(out, nonce, plain, []byte(aad))
}

// ErrCorruptState says a stored state blob cannot be decrypted: damaged,
// truncated, moved from another deployment, or sealed with a key that is
// not configured.
var ErrCorruptState = errors.New("stored plugin state cannot be decrypted")

func (s *sealer) open(sealed []byte, aad string) ([]byte, error) {
	if sealed == nil {
		return nil, nil
	}
	rest, ok := strings.CutPrefix(string(sealed), sealVersion)
	if !ok || len(rest) < 4 {
		return nil, fmt.Errorf("%w: not a sealed blob", ErrCorruptState)
	}
	for _, k := range s.keys {
		if rest[:4] != string(k.id[:]) {
			continue
		}
		body := []byte(rest[4:])
		if len(body) < k.aead.NonceSize() {
			return nil, fmt.Errorf("%w: truncated", ErrCorruptState)
		}
		plain, err := k.aead.Open(nil, body[:k.aead.NonceSize()], body[k.aead.NonceSize():], []byte(aad))
		if err != nil {
			return nil, fmt.Errorf("%w: authentication failed", ErrCorruptState)
		}
		return plain, nil
	}
	return nil, fmt.Errorf("%w: sealed with key %x, which is not configured", ErrCorruptState, rest[:4])
}
