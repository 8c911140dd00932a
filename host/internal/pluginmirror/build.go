package pluginmirror

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"

	"github.com/alphaswarm/controller/host/internal/pluginmgr"
)

var (
	sumsFileRE = regexp.MustCompile(`^swarm-backend-([a-z0-9][a-z0-9-]*)_([0-9][^_/]*)_SHA256SUMS$`)
	zipFileRE  = regexp.MustCompile(`^swarm-backend-([a-z0-9][a-z0-9-]*)_([0-9][^_/]*)_([a-z0-9]+_[a-z0-9]+)\.zip$`)
)

// Published is one plugin release that Build added to a mirror.
type Published struct {
	Name, Version string
	Platforms     []string
}

// product is one plugin release in a release directory.
type product struct {
	name, version string
	sumsFile      string
	sums          map[string]string // zip file name -> sha256 hex
	platforms     map[string]string // platform -> zip file name
}

// Build adds the plugin releases in releaseDir (dist/<version>/ of "make
// release": archives, SHA256SUMS and .sig per plugin) to the filesystem
// mirror at mirrorDir. It checks everything before it writes anything:
// each archive against SHA256SUMS, each archive's contents, every archive
// covered by a SHA256SUMS, a signature beside each SHA256SUMS (verified
// when keys is not nil), and no file of the mirror replaced by different
// content. swarmctl's own archives are not plugins and are skipped.
func Build(mirrorDir, releaseDir string, keys *Keyring) ([]Published, error) {
	products, err := scanRelease(releaseDir, keys)
	if err != nil {
		return nil, fmt.Errorf("build mirror from %s: %w", releaseDir, err)
	}
	out := make([]Published, 0, len(products))
	for _, p := range products {
		if err := checkNoConflict(mirrorDir, releaseDir, p); err != nil {
			return nil, fmt.Errorf("build mirror %s: %w", mirrorDir, err)
		}
	}
	for _, p := range products {
		if err := publish(mirrorDir, releaseDir, p); err != nil {
			return out, fmt.Errorf("build mirror %s: plugin %q %s: %w", mirrorDir, p.name, p.version, err)
		}
		out = append(out, Published{Name: p.name, Version: p.version, Platforms: slices.Sorted(maps.Keys(p.platforms))})
	}
	return out, nil
}

// scanRelease reads and checks every plugin release in dir.
func scanRelease(dir string, keys *Keyring) ([]*product, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read release directory: %w", err)
	}
	var products []*product
	covered := map[string]bool{}
	for _, e := range entries {
		m := sumsFileRE.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		p, err := checkProduct(dir, m[1], m[2], e.Name(), keys)
		if err != nil {
			return nil, fmt.Errorf("plugin %q %s: %w", m[1], m[2], err)
		}
		for f := range p.sums {
			covered[f] = true
		}
		products = append(products, p)
	}
	for _, e := range entries {
		if zipFileRE.MatchString(e.Name()) && !covered[e.Name()] {
			return nil, fmt.Errorf("%w: %s is not listed in its release's SHA256SUMS", ErrChecksum, e.Name())
		}
	}
	if len(products) == 0 {
		return nil, errors.New("no plugin release in it (no swarm-backend-<name>_<version>_SHA256SUMS)")
	}
	return products, nil
}

// checkProduct checks one plugin's SHA256SUMS, signature and archives.
func checkProduct(dir, name, version, sumsFile string, keys *Keyring) (*product, error) {
	if err := CheckVersion(version); err != nil {
		return nil, err
	}
	sumsData, err := readCapped(filepath.Join(dir, sumsFile), maxDocument)
	if err != nil {
		return nil, err
	}
	sig, err := readCapped(filepath.Join(dir, sumsFile+".sig"), maxSignature)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: no %s.sig beside %s", ErrMissingSignature, sumsFile, sumsFile)
	}
	if err != nil {
		return nil, err
	}
	if keys != nil {
		if err := keys.verify(sumsData, sig, sumsFile+".sig"); err != nil {
			return nil, err
		}
	}
	sums, err := parseSums(sumsData)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrChecksum, sumsFile, err)
	}
	p := &product{name: name, version: version, sumsFile: sumsFile, sums: sums, platforms: map[string]string{}}
	for file, sum := range sums {
		m := zipFileRE.FindStringSubmatch(file)
		if m == nil || m[1] != name || m[2] != version {
			return nil, fmt.Errorf("%w: %s lists %s, not an archive of %s %s", ErrChecksum, sumsFile, file, name, version)
		}
		if err := checkReleaseZip(dir, file, sum, name, version, m[3]); err != nil {
			return nil, err
		}
		p.platforms[m[3]] = file
	}
	return p, nil
}

// checkReleaseZip checks one archive's hash and contents.
func checkReleaseZip(dir, file, sum, name, version, platform string) error {
	path := filepath.Join(dir, file)
	got, size, err := hashFile(path)
	if err != nil {
		return err
	}
	if got != sum {
		return fmt.Errorf("%w: %s has sha256 %s, SHA256SUMS says %s", ErrChecksum, file, got, sum)
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open archive: %w", err)
	}
	defer f.Close()
	a := &Archive{Name: name, Version: version, Platform: platform, file: f, size: size, max: defaultMaxBinary}
	if _, err := a.extract(io.Discard); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	return nil
}

// checkNoConflict refuses to replace a file of the mirror by other bytes.
func checkNoConflict(mirrorDir, releaseDir string, p *product) error {
	files := append(slices.Collect(maps.Values(p.platforms)), p.sumsFile, p.sumsFile+".sig")
	for _, f := range files {
		dst := filepath.Join(mirrorDir, p.name, f)
		old, _, err := hashFile(dst)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		if cur, _, err := hashFile(filepath.Join(releaseDir, f)); err != nil || cur != old {
			return fmt.Errorf("%w: the mirror already has a different %s; a published file never changes", ErrChecksum, dst)
		}
	}
	return nil
}

// publish copies one product into the mirror and writes its documents.
func publish(mirrorDir, releaseDir string, p *product) error {
	dir := filepath.Join(mirrorDir, p.name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create mirror directory: %w", err)
	}
	doc := versionDoc{Archives: map[string]archiveDoc{}, Shasums: p.sumsFile, ShasumsSignature: p.sumsFile + ".sig"}
	for platform, file := range p.platforms {
		doc.Archives[platform] = archiveDoc{URL: file, Hashes: []string{"zh:" + p.sums[file]}}
	}
	for _, f := range append(slices.Sorted(maps.Values(p.platforms)), p.sumsFile, p.sumsFile+".sig") {
		data, err := os.ReadFile(filepath.Join(releaseDir, f))
		if err != nil {
			return fmt.Errorf("copy release file: %w", err)
		}
		if err := writeFileAtomic(filepath.Join(dir, f), data); err != nil {
			return err
		}
	}
	if err := writeJSON(filepath.Join(dir, p.version+".json"), doc); err != nil {
		return err
	}
	return addToIndex(filepath.Join(dir, "index.json"), p.version)
}

// addToIndex adds version to the index.json at path, creating it.
func addToIndex(path, version string) error {
	idx := indexDoc{Versions: map[string]json.RawMessage{}}
	data, err := readCapped(path, maxDocument)
	switch {
	case err == nil:
		if err := decode(data, path, &idx); err != nil {
			return err
		}
		if idx.Versions == nil {
			idx.Versions = map[string]json.RawMessage{}
		}
	case !errors.Is(err, fs.ErrNotExist):
		return err
	}
	idx.Versions[version] = json.RawMessage("{}")
	return writeJSON(path, idx)
}

func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", filepath.Base(path), err)
	}
	return writeFileAtomic(path, append(data, '\n'))
}

// writeFileAtomic writes data beside path and renames it into place.
func writeFileAtomic(path string, data []byte) error {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		return nil
	}
	if err := pluginmgr.WriteFileAtomic(path, data); err != nil {
		return fmt.Errorf("write mirror file %s: %w", filepath.Base(path), err)
	}
	return nil
}

// readCapped reads a regular file of at most max bytes.
func readCapped(path string, max int64) ([]byte, error) {
	st, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() || st.Size() > max {
		return nil, fmt.Errorf("read %s: not a regular file of at most %d bytes", path, max)
	}
	return os.ReadFile(path)
}

// hashFile returns the sha256 hex and size of the regular file at path.
func hashFile(path string) (string, int64, error) {
	st, err := os.Lstat(path)
	if err != nil {
		return "", 0, fmt.Errorf("hash file: %w", err)
	}
	if !st.Mode().IsRegular() {
		return "", 0, fmt.Errorf("hash %s: not a regular file", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, fmt.Errorf("hash %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}
