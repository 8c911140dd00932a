package pluginmirror

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alphaswarm/controller/host/internal/pluginmirror/mirrortest"
	"github.com/alphaswarm/controller/host/internal/testbin"
)

// Fixtures built once: the memory plugin as the current platform's binary,
// any bytes as another platform's, both released as 0.2.0 in a directory
// mirror signed by trusted, whose index also lists 0.1.0 (without a
// document) and 0.3.0-rc.1.
var (
	cur, other        string
	realBin           []byte
	trusted, stranger *mirrortest.Signer
	keyFile           string
	keys              *Keyring
	release           *mirrortest.Release
	template          string // the mirror; tests clone it
)

func TestMain(m *testing.M) {
	tmp, err := os.MkdirTemp("", "pluginmirror-test-")
	if err == nil {
		err = setup(tmp)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(tmp)
	os.Exit(code)
}

func setup(tmp string) error {
	cur, other = CurrentPlatform(), "darwin_arm64"
	if cur == other {
		other = "linux_amd64"
	}
	bin := filepath.Join(tmp, "swarm-backend-memory")
	if err := testbin.Build(testbin.MemoryPlugin, bin); err != nil {
		return err
	}
	var err error
	if realBin, err = os.ReadFile(bin); err != nil {
		return err
	}
	if trusted, err = mirrortest.NewSigner("releases@alphaswarm.test"); err != nil {
		return err
	}
	if stranger, err = mirrortest.NewSigner("someone@else.test"); err != nil {
		return err
	}
	keyFile = filepath.Join(tmp, "trusted.asc")
	if err := os.WriteFile(keyFile, trusted.PublicKey, 0o644); err != nil {
		return err
	}
	if keys, err = LoadKeyring(keyFile); err != nil {
		return err
	}
	release, err = mirrortest.NewRelease("memory", "0.2.0", map[string][]byte{cur: realBin, other: []byte("darwin bytes")})
	if err != nil {
		return err
	}
	template = filepath.Join(tmp, "mirror")
	return release.WriteMirror(template, trusted, "0.1.0", "0.3.0-rc.1")
}

// clone gives a test its own copy of the mirror, hard-linked: change files
// with put, never in place.
func clone(t *testing.T) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(template, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(template, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		return os.Link(path, filepath.Join(dst, rel))
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// put replaces the file at <mirror>/memory/<file>.
func put(t *testing.T, mirror, file string, data []byte) {
	t.Helper()
	path := filepath.Join(mirror, "memory", file)
	os.Remove(path)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, mirror, file string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(mirror, "memory", file))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// serve serves dir over http on loopback.
func serve(t *testing.T, dir string) string {
	t.Helper()
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	t.Cleanup(srv.Close)
	return srv.URL
}

func sha(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// snapshot lists every path under dir with its mode and content hash.
func snapshot(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		info, err := d.Info()
		if err != nil {
			return err
		}
		line := fmt.Sprintf("%s %v", rel, info.Mode())
		if info.Mode().IsRegular() {
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			line += " " + sha(data)
		}
		out = append(out, line)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// zipEntry is one entry of a hand-made archive.
type zipEntry struct {
	name string
	mode fs.FileMode
	data []byte
}

// rawZip makes an archive with exactly the entries given.
func rawZip(t *testing.T, entries ...zipEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		fh := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		fh.SetMode(e.mode)
		w, err := zw.CreateHeader(fh)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(e.data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func contains(s string, subs ...string) string {
	var missing []string
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			missing = append(missing, sub)
		}
	}
	return strings.Join(missing, ", ")
}
