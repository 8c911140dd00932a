package main

import (
	"bytes"
	"crypto"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// Key file names that genkey writes.
const (
	privateKeyFile = "release-signing-key.asc"
	publicKeyFile  = "release-signing-key.pub.asc"
)

// passphraseEnv names the variable holding the signing key's passphrase,
// for a key that has one.
const passphraseEnv = "RELEASE_SIGNING_PASSPHRASE"

// keyConfig makes Ed25519 (EdDSA over Curve25519, OpenPGP v4) keys, which
// GnuPG 2.2 and later verify.
func keyConfig(now time.Time) *packet.Config {
	return &packet.Config{
		Algorithm:   packet.PubKeyAlgoEdDSA,
		Curve:       packet.Curve25519,
		DefaultHash: crypto.SHA256,
		Time:        func() time.Time { return now },
	}
}

// cmdGenkey writes a new signing key pair for a maintainer.
func cmdGenkey(args []string, stdout io.Writer) error {
	fs := newFlags("genkey")
	out := fs.String("out", "", "directory to write "+privateKeyFile+" and "+publicKeyFile+" into")
	name := fs.String("name", "alphaswarm releases", "the key's user name")
	email := fs.String("email", "releases@alphaswarm.invalid", "the key's user email")
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	if *out == "" {
		return fmt.Errorf("genkey needs -out DIR: %w", errUsage)
	}
	priv, pub, err := generateKey(*name, *email, time.Now())
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o700); err != nil {
		return fmt.Errorf("create key directory: %w", err)
	}
	privPath, pubPath := filepath.Join(*out, privateKeyFile), filepath.Join(*out, publicKeyFile)
	// O_EXCL: never overwrite a maintainer's key.
	f, err := os.OpenFile(privPath, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("create private key file: %w", err)
	}
	if _, err := f.Write(priv); err != nil {
		f.Close()
		return fmt.Errorf("write private key file %s: %w", privPath, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write private key file %s: %w", privPath, err)
	}
	if err := os.WriteFile(pubPath, pub, 0o644); err != nil {
		return fmt.Errorf("write public key file: %w", err)
	}
	fmt.Fprintf(stdout, "private key %s (keep it secret; RELEASE_SIGNING_KEY=%s)\npublic key  %s (publish it; mirrors' users trust it)\n", privPath, privPath, pubPath)
	return nil
}

// generateKey returns a new Ed25519 key pair, armored.
func generateKey(name, email string, now time.Time) (priv, pub []byte, err error) {
	e, err := openpgp.NewEntity(name, "release signing", email, keyConfig(now))
	if err != nil {
		return nil, nil, fmt.Errorf("generate signing key: %w", err)
	}
	priv, err = armored(openpgp.PrivateKeyType, func(w io.Writer) error { return e.SerializePrivate(w, nil) })
	if err != nil {
		return nil, nil, fmt.Errorf("serialize private key: %w", err)
	}
	pub, err = armored(openpgp.PublicKeyType, e.Serialize)
	if err != nil {
		return nil, nil, fmt.Errorf("serialize public key: %w", err)
	}
	return priv, pub, nil
}

func armored(blockType string, write func(io.Writer) error) ([]byte, error) {
	var buf bytes.Buffer
	w, err := armor.Encode(&buf, blockType, nil)
	if err != nil {
		return nil, err
	}
	if err := write(w); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

// loadSigner reads the armored private key at path: the first key in it
// that can sign. An encrypted key is opened with $RELEASE_SIGNING_PASSPHRASE.
// Errors name the file, never its content.
func loadSigner(path string) (*openpgp.Entity, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open signing key: %w", err)
	}
	defer f.Close()
	keys, err := openpgp.ReadArmoredKeyRing(f)
	if err != nil {
		return nil, fmt.Errorf("read signing key %s: %w", path, err)
	}
	for _, e := range keys {
		if e.PrivateKey == nil {
			continue
		}
		if e.PrivateKey.Encrypted {
			pass := os.Getenv(passphraseEnv)
			if pass == "" {
				return nil, fmt.Errorf("read signing key %s: it is passphrase-protected; set %s", path, passphraseEnv)
			}
			if err := e.DecryptPrivateKeys([]byte(pass)); err != nil {
				return nil, fmt.Errorf("decrypt signing key %s with %s: %w", path, passphraseEnv, err)
			}
		}
		return e, nil
	}
	return nil, fmt.Errorf("read signing key %s: it holds no private key (is it the public one?)", path)
}

// sign returns a detached binary OpenPGP signature over msg made at the
// time at, or at the key's own creation if it is younger (a signature older
// than its key does not verify), so that the same key, message and time give
// the same bytes (EdDSA signatures are deterministic).
func sign(signer *openpgp.Entity, msg []byte, at time.Time) ([]byte, error) {
	var sig bytes.Buffer
	cfg := keyConfig(signingTime(signer, at))
	// go-crypto salts v4 signatures with a random notation by default (a
	// guard against fault attacks on EdDSA); the release contract wants
	// the same bytes from the same commit, so signatures are plain
	// RFC 4880 ones, as GnuPG makes.
	deterministic := false
	cfg.NonDeterministicSignaturesViaNotation = &deterministic
	if err := openpgp.DetachSign(&sig, signer, bytes.NewReader(msg), cfg); err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	return sig.Bytes(), nil
}

// signingTime is at, or the creation of signer's newest key or
// self-signature when that is later.
func signingTime(signer *openpgp.Entity, at time.Time) time.Time {
	times := []time.Time{signer.PrimaryKey.CreationTime}
	if self, _ := signer.PrimarySelfSignature(); self != nil {
		times = append(times, self.CreationTime)
	}
	for _, t := range times {
		if t.After(at) {
			at = t
		}
	}
	return at.UTC()
}
