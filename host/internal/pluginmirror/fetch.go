package pluginmirror

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path"
	"slices"
	"strings"
)

// indexDoc is <name>/index.json.
type indexDoc struct {
	Versions map[string]json.RawMessage `json:"versions"`
}

// versionDoc is <name>/<ver>.json.
type versionDoc struct {
	Archives         map[string]archiveDoc `json:"archives"`
	Shasums          string                `json:"shasums"`
	ShasumsSignature string                `json:"shasums_signature"`
}

type archiveDoc struct {
	URL    string   `json:"url"`
	Hashes []string `json:"hashes"`
}

// decode reads one JSON object from data into v.
func decode(data []byte, what string, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %s is not JSON of the mirror protocol: %v", ErrMirror, what, err)
	}
	if dec.More() {
		return fmt.Errorf("%w: %s has data after its JSON object", ErrMirror, what)
	}
	return nil
}

// Resolve returns the version of name to install: want if the mirror has
// it, or without want the newest release that is not a pre-release.
func (m *Mirror) Resolve(ctx context.Context, name, want string) (string, error) {
	l := m.doc(name, "index.json")
	data, err := m.read(ctx, l, maxDocument)
	if errors.Is(err, errNotFound) {
		return "", fmt.Errorf("%w: mirror %s has no plugin %q (%v)", ErrNoVersion, m, name, err)
	}
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrMirror, err)
	}
	var idx indexDoc
	if err := decode(data, l.String(), &idx); err != nil {
		return "", err
	}
	if idx.Versions == nil {
		return "", fmt.Errorf("%w: %s has no \"versions\" object", ErrMirror, l)
	}
	return pickVersion(slices.Collect(maps.Keys(idx.Versions)), want)
}

// Archive is a downloaded archive whose hash matched the signed checksums
// and the mirror's zh: hash. Close removes its temporary file.
type Archive struct {
	Name, Version, Platform string
	// SHA256 is the archive's hash, lower-case hex.
	SHA256 string
	file   *os.File
	size   int64
	max    int64 // the unpacked binary's size cap
}

// Close removes the archive's temporary file.
func (a *Archive) Close() error {
	a.file.Close()
	return os.Remove(a.file.Name())
}

// Fetch downloads the archive of name at version for platform and verifies
// it: the SHA256SUMS signature against keys, the archive against SHA256SUMS
// and against the zh: hash of <ver>.json. Errors are *Error.
func (m *Mirror) Fetch(ctx context.Context, keys *Keyring, name, version, platform string) (*Archive, error) {
	a, err := m.fetch(ctx, keys, name, version, platform)
	if err != nil {
		return nil, &Error{Plugin: name, Version: version, Platform: platform, Err: err}
	}
	return a, nil
}

func (m *Mirror) fetch(ctx context.Context, keys *Keyring, name, version, platform string) (*Archive, error) {
	if keys == nil || keys.Len() == 0 {
		return nil, fmt.Errorf("%w: no trusted keys to check the signature with", ErrUntrustedKey)
	}
	docLoc := m.doc(name, version+".json")
	doc, err := m.versionDoc(ctx, docLoc)
	if err != nil {
		return nil, err
	}
	entry, ok := doc.Archives[platform]
	if !ok {
		return nil, fmt.Errorf("%w: %s lists %s", ErrNoPlatform, docLoc, listOrNone(slices.Sorted(maps.Keys(doc.Archives))))
	}
	want := ArchiveName(name, version, platform)
	zipLoc, err := m.resolve(docLoc, entry.URL)
	if err != nil {
		return nil, fmt.Errorf("%w: archive of %s: %v", ErrMirror, docLoc, err)
	}
	if base := path.Base(zipLoc.String()); base != want {
		return nil, fmt.Errorf("%w: %s names archive %q, want %q", ErrMirror, docLoc, base, want)
	}
	sum, err := m.signedSum(ctx, keys, docLoc, doc, name, version, want)
	if err != nil {
		return nil, err
	}
	if err := checkZH(entry.Hashes, sum, docLoc); err != nil {
		return nil, err
	}
	return m.download(ctx, zipLoc, sum, &Archive{Name: name, Version: version, Platform: platform})
}

func (m *Mirror) versionDoc(ctx context.Context, l loc) (*versionDoc, error) {
	data, err := m.read(ctx, l, maxDocument)
	if errors.Is(err, errNotFound) {
		return nil, fmt.Errorf("%w: the index lists it but %v", ErrNoVersion, err)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMirror, err)
	}
	var doc versionDoc
	if err := decode(data, l.String(), &doc); err != nil {
		return nil, err
	}
	if doc.Archives == nil {
		return nil, fmt.Errorf("%w: %s has no \"archives\" object", ErrMirror, l)
	}
	return &doc, nil
}

// signedSum reads SHA256SUMS, checks its signature, and returns the hash
// it gives the archive called file.
func (m *Mirror) signedSum(ctx context.Context, keys *Keyring, docLoc loc, doc *versionDoc, name, version, file string) (string, error) {
	sumsName := SumsName(name, version)
	sumsLoc, err := m.resolve(docLoc, doc.Shasums)
	if err != nil {
		return "", fmt.Errorf("%w: shasums of %s: %v", ErrMirror, docLoc, err)
	}
	sums, err := m.read(ctx, sumsLoc, maxDocument)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrMirror, err)
	}
	if doc.ShasumsSignature == "" {
		return "", fmt.Errorf("%w: %s names no shasums_signature", ErrMissingSignature, docLoc)
	}
	sigLoc, err := m.resolve(docLoc, doc.ShasumsSignature)
	if err != nil {
		return "", fmt.Errorf("%w: shasums_signature of %s: %v", ErrMirror, docLoc, err)
	}
	sig, err := m.read(ctx, sigLoc, maxSignature)
	if errors.Is(err, errNotFound) {
		return "", fmt.Errorf("%w: %v", ErrMissingSignature, err)
	}
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrMirror, err)
	}
	if err := keys.verify(sums, sig, sumsName+".sig"); err != nil {
		return "", err
	}
	table, err := parseSums(sums)
	if err != nil {
		return "", fmt.Errorf("%w: %s: %v", ErrMirror, sumsLoc, err)
	}
	sum, ok := table[file]
	if !ok {
		return "", fmt.Errorf("%w: the signed %s does not list %s", ErrChecksum, sumsName, file)
	}
	return sum, nil
}

// checkZH requires a zh: hash in hashes, and every zh: hash to be sum.
func checkZH(hashes []string, sum string, docLoc loc) error {
	found := false
	for _, h := range hashes {
		hex, ok := strings.CutPrefix(h, "zh:")
		if !ok {
			continue
		}
		if hex != sum {
			return fmt.Errorf("%w: %s gives the archive hash %s, the signed SHA256SUMS gives zh:%s", ErrChecksum, docLoc, h, sum)
		}
		found = true
	}
	if !found {
		return fmt.Errorf("%w: %s gives no zh: hash for the archive", ErrMirror, docLoc)
	}
	return nil
}

// download copies the archive at l to a temporary file and checks its
// hash against sum.
func (m *Mirror) download(ctx context.Context, l loc, sum string, a *Archive) (*Archive, error) {
	f, err := os.CreateTemp("", "swarm-plugin-*.zip")
	if err != nil {
		return nil, fmt.Errorf("create temporary archive: %w", err)
	}
	h := sha256.New()
	n, err := m.copy(ctx, l, m.opts.MaxArchiveSize, io.MultiWriter(f, h))
	if err == nil {
		a.SHA256 = hex.EncodeToString(h.Sum(nil))
		if a.SHA256 != sum {
			err = fmt.Errorf("%w: %s has sha256 %s, the signed SHA256SUMS says %s", ErrChecksum, l, a.SHA256, sum)
		}
	} else if !errors.Is(err, ErrChecksum) {
		err = fmt.Errorf("%w: %v", ErrMirror, err)
	}
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, err
	}
	a.file, a.size, a.max = f, n, m.opts.MaxBinarySize
	return a, nil
}
