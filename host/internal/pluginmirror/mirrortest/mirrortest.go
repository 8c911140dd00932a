// Package mirrortest writes plugin releases and mirrors for tests, laid out
// exactly as the release contract of docs/plugins.md says: deterministic
// zips holding one binary, sha256sum-style SHA256SUMS, a binary detached
// OpenPGP signature by an Ed25519 key, and index.json and <ver>.json.
package mirrortest

import (
	"archive/zip"
	"bytes"
	"crypto"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// Epoch is the SOURCE_DATE_EPOCH of test releases.
var Epoch = time.Date(2026, 11, 2, 9, 30, 0, 0, time.UTC)

// Signer is an Ed25519 OpenPGP key that signs releases.
type Signer struct {
	entity *openpgp.Entity
	// PublicKey is the ASCII-armored public key.
	PublicKey []byte
}

// NewSigner generates a key for the identity name, created a day before
// Epoch.
func NewSigner(name string) (*Signer, error) {
	// EdDSA over Curve25519 in a v4 key, as "make release" signs.
	cfg := &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA, Curve: packet.Curve25519, DefaultHash: crypto.SHA256,
		Time: func() time.Time { return Epoch.Add(-24 * time.Hour) }}
	e, err := openpgp.NewEntity(name, "", "", cfg)
	if err != nil {
		return nil, fmt.Errorf("generate signing key: %w", err)
	}
	var buf bytes.Buffer
	w, err := armor.Encode(&buf, openpgp.PublicKeyType, nil)
	if err != nil {
		return nil, fmt.Errorf("armor public key: %w", err)
	}
	if err := e.Serialize(w); err != nil {
		return nil, fmt.Errorf("serialize public key: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("armor public key: %w", err)
	}
	return &Signer{entity: e, PublicKey: append(buf.Bytes(), '\n')}, nil
}

// Sign returns a binary detached signature over data made at Epoch.
func (s *Signer) Sign(data []byte) ([]byte, error) {
	var buf bytes.Buffer
	cfg := &packet.Config{DefaultHash: crypto.SHA256, Time: func() time.Time { return Epoch }}
	if err := openpgp.DetachSign(&buf, s.entity, bytes.NewReader(data), cfg); err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	return buf.Bytes(), nil
}

// BinaryName is a plugin binary's name on platform.
func BinaryName(name, platform string) string {
	if strings.HasPrefix(platform, "windows_") {
		return "swarm-backend-" + name + ".exe"
	}
	return "swarm-backend-" + name
}

// Zip packs one binary as the contract says: one entry at the root, mode
// 0755, deflate, time Epoch in the header, no extra fields.
func Zip(binName string, data []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	fh := &zip.FileHeader{Name: binName, Method: zip.Deflate}
	fh.ModifiedDate, fh.ModifiedTime = msdos(Epoch)
	fh.SetMode(0o755)
	w, err := zw.CreateHeader(fh)
	if err == nil {
		_, err = w.Write(data)
	}
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("zip %s: %w", binName, err)
	}
	return buf.Bytes(), nil
}

func msdos(t time.Time) (date, clock uint16) {
	date = uint16(t.Day() + int(t.Month())<<5 + (t.Year()-1980)<<9)
	clock = uint16(t.Second()/2 + t.Minute()<<5 + t.Hour()<<11)
	return date, clock
}

// Sums is sha256sum's output over files (name -> content), sorted by name.
func Sums(files map[string][]byte) []byte {
	var b strings.Builder
	for _, name := range slices.Sorted(maps.Keys(files)) {
		sum := sha256.Sum256(files[name])
		fmt.Fprintf(&b, "%s  %s\n", hex.EncodeToString(sum[:]), name)
	}
	return []byte(b.String())
}

// Release is one plugin version: its archives by platform.
type Release struct {
	Name, Version string
	Zips          map[string][]byte
}

// NewRelease zips each binary (platform -> content) of name at version.
func NewRelease(name, version string, binaries map[string][]byte) (*Release, error) {
	r := &Release{Name: name, Version: version, Zips: map[string][]byte{}}
	for platform, data := range binaries {
		z, err := Zip(BinaryName(name, platform), data)
		if err != nil {
			return nil, err
		}
		r.Zips[platform] = z
	}
	return r, nil
}

// ZipName is the archive's file name for platform.
func (r *Release) ZipName(platform string) string {
	return fmt.Sprintf("swarm-backend-%s_%s_%s.zip", r.Name, r.Version, platform)
}

// SumsName is the release's SHA256SUMS file name.
func (r *Release) SumsName() string {
	return fmt.Sprintf("swarm-backend-%s_%s_SHA256SUMS", r.Name, r.Version)
}

// Files returns the release's files by name: archives, SHA256SUMS and its
// signature by s.
func (r *Release) Files(s *Signer) (map[string][]byte, error) {
	files := map[string][]byte{}
	for platform, z := range r.Zips {
		files[r.ZipName(platform)] = z
	}
	sums := Sums(files)
	sig, err := s.Sign(sums)
	if err != nil {
		return nil, err
	}
	files[r.SumsName()], files[r.SumsName()+".sig"] = sums, sig
	return files, nil
}

// WriteRelease writes the release's files into dir, as dist/<version>/.
func (r *Release) WriteRelease(dir string, s *Signer) error {
	files, err := r.Files(s)
	if err != nil {
		return err
	}
	return writeAll(dir, files)
}

// WriteMirror writes the release into the mirror at base: its files in
// <base>/<name>/, <ver>.json, and index.json listing versions.
func (r *Release) WriteMirror(base string, s *Signer, versions ...string) error {
	files, err := r.Files(s)
	if err != nil {
		return err
	}
	doc := map[string]any{"shasums": r.SumsName(), "shasums_signature": r.SumsName() + ".sig"}
	archives := map[string]any{}
	for platform, z := range r.Zips {
		sum := sha256.Sum256(z)
		archives[platform] = map[string]any{"url": r.ZipName(platform), "hashes": []string{"zh:" + hex.EncodeToString(sum[:])}}
	}
	doc["archives"] = archives
	index := map[string]any{}
	for _, v := range append(versions, r.Version) {
		index[v] = map[string]any{}
	}
	if files[r.Version+".json"], err = json.Marshal(doc); err == nil {
		files["index.json"], err = json.Marshal(map[string]any{"versions": index})
	}
	if err != nil {
		return fmt.Errorf("encode mirror documents: %w", err)
	}
	return writeAll(filepath.Join(base, r.Name), files)
}

func writeAll(dir string, files map[string][]byte) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			return fmt.Errorf("write release file: %w", err)
		}
	}
	return nil
}
