package pluginmirror

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp"
	pgperrors "github.com/ProtonMail/go-crypto/openpgp/errors"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

const (
	publicKeyBegin  = "-----BEGIN PGP PUBLIC KEY BLOCK-----"
	privateKeyBegin = "-----BEGIN PGP PRIVATE KEY BLOCK-----"
	maxKeyFile      = 1 << 20
)

// Keyring is the set of OpenPGP public keys the operator trusts to sign
// plugin releases.
type Keyring struct {
	keys   openpgp.EntityList
	source string
}

// LoadKeyring reads the ASCII-armored public keys in the file at path; it
// may hold several key blocks, one after the other.
func LoadKeyring(path string) (*Keyring, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("read trusted keys: %w", err)
	}
	if st.Size() > maxKeyFile {
		return nil, fmt.Errorf("read trusted keys %s: larger than %d bytes", path, maxKeyFile)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read trusted keys: %w", err)
	}
	return ParseKeyring(data, path)
}

// ParseKeyring reads ASCII-armored public keys from data; source names
// where they came from in errors.
func ParseKeyring(data []byte, source string) (*Keyring, error) {
	text := string(data)
	if strings.Contains(text, privateKeyBegin) {
		return nil, fmt.Errorf("read trusted keys %s: it holds a private key; give the public key only", source)
	}
	blocks := strings.Split(text, publicKeyBegin)[1:]
	if len(blocks) == 0 {
		return nil, fmt.Errorf("read trusted keys %s: no ASCII-armored OpenPGP public key (%s)", source, publicKeyBegin)
	}
	k := &Keyring{source: source}
	for i, b := range blocks {
		el, err := openpgp.ReadArmoredKeyRing(strings.NewReader(publicKeyBegin + b))
		if err != nil {
			return nil, fmt.Errorf("read trusted keys %s: key block %d: %w", source, i+1, err)
		}
		k.keys = append(k.keys, el...)
	}
	return k, nil
}

// Len is the number of keys.
func (k *Keyring) Len() int { return len(k.keys) }

// verify checks sig, a binary detached signature, over signed.
func (k *Keyring) verify(signed, sig []byte, sigName string) error {
	_, err := openpgp.CheckDetachedSignature(k.keys, bytes.NewReader(signed), bytes.NewReader(sig), nil)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, pgperrors.ErrUnknownIssuer):
		return fmt.Errorf("%w: %s was made by key %s, which is not among the %d key(s) in %s",
			ErrUntrustedKey, sigName, issuer(sig), len(k.keys), k.source)
	}
	return fmt.Errorf("%w: %s does not verify with key %s: %v", ErrBadSignature, sigName, issuer(sig), err)
}

// issuer returns the key id a signature names, for messages.
func issuer(sig []byte) string {
	p, err := packet.Read(bytes.NewReader(sig))
	if err != nil {
		return "(unreadable signature)"
	}
	if s, ok := p.(*packet.Signature); ok && s.IssuerKeyId != nil {
		return fmt.Sprintf("%016X", *s.IssuerKeyId)
	}
	return "(unknown)"
}

var sumLine = regexp.MustCompile(`^([0-9a-f]{64})  ([A-Za-z0-9._-]+)$`)

// parseSums reads sha256sum's output: "<hex>  <file>" per line.
func parseSums(data []byte) (map[string]string, error) {
	sums := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		m := sumLine.FindStringSubmatch(sc.Text())
		if m == nil {
			return nil, fmt.Errorf("line %d is not \"<64 hex digits>  <file name>\"", n)
		}
		if _, dup := sums[m[2]]; dup {
			return nil, fmt.Errorf("line %d: %s listed twice", n, m[2])
		}
		sums[m[2]] = m[1]
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(sums) == 0 {
		return nil, errors.New("no checksums")
	}
	return sums, nil
}
