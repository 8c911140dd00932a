package pluginmirror

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/alphaswarm/controller/host/internal/pluginmgr"
	"github.com/alphaswarm/controller/host/internal/pluginmirror/mirrortest"
)

// badCase is one bad input: a mirror set up by mirror, a request, and the
// kind of error it must give.
type badCase struct {
	name     string
	mirror   func(t *testing.T) string
	version  string // default 0.2.0
	platform string // default the current one
	opts     Options
	want     error
}

// TestBadInputLeavesEverythingAsItWas installs from each bad mirror into a
// plugin directory and lock file that already hold version 0.1.0: each
// fails with one error of the right kind naming plugin, version and
// platform, and both are byte for byte as before.
func TestBadInputLeavesEverythingAsItWas(t *testing.T) {
	t.Parallel()
	cases := append(append(tamperCases(), serverCases()...), archiveCases()...)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if tc.version == "" {
				tc.version = "0.2.0"
			}
			if tc.platform == "" {
				tc.platform = cur
			}
			plugins, lockPath := preinstalled(t)
			beforeDir, beforeLock := snapshot(t, plugins), readFile(t, lockPath)
			m, err := Open(tc.mirror(t), tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			req := Request{Mirror: m, Keys: keys, Name: "memory", Version: tc.version, Platform: tc.platform}
			_, err = Install(context.Background(), req, plugins, lockPath)
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			t.Log(err)
			var perr *Error
			if !errors.As(err, &perr) {
				t.Errorf("error %T is not an *Error", err)
			}
			if missing := contains(err.Error(), `plugin "memory"`, tc.version, tc.platform); missing != "" {
				t.Errorf("error does not name %s: %v", missing, err)
			}
			if diff := cmp.Diff(beforeDir, snapshot(t, plugins)); diff != "" {
				t.Errorf("plugin dir changed (-before +after):\n%s", diff)
			}
			if !bytes.Equal(beforeLock, readFile(t, lockPath)) {
				t.Errorf("lock file changed:\n%s", readFile(t, lockPath))
			}
		})
	}
}

// preinstalled returns a plugin dir holding memory 0.1.0 and a lock file
// pinning it.
func preinstalled(t *testing.T) (string, string) {
	t.Helper()
	plugins := t.TempDir()
	dir := filepath.Join(plugins, "memory", "0.1.0", cur)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "swarm-backend-memory"), []byte("old"), 0o755); err != nil {
		t.Fatal(err)
	}
	lockPath := filepath.Join(t.TempDir(), pluginmgr.DefaultLockFile)
	lock := &pluginmgr.LockFile{}
	Record(lock, "memory", "0.1.0", "sha256:"+sha([]byte("old")))
	if err := lock.Write(lockPath); err != nil {
		t.Fatal(err)
	}
	return plugins, lockPath
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// edit returns a mirror whose files were changed by f.
func edit(f func(t *testing.T, mirror string)) func(t *testing.T) string {
	return func(t *testing.T) string {
		m := clone(t)
		f(t, m)
		return m
	}
}

// editDoc rewrites <ver>.json of the mirror through f.
func editDoc(t *testing.T, mirror string, f func(doc *versionDoc)) {
	t.Helper()
	var doc versionDoc
	if err := json.Unmarshal(read(t, mirror, "0.2.0.json"), &doc); err != nil {
		t.Fatal(err)
	}
	f(&doc)
	data, _ := json.Marshal(doc)
	put(t, mirror, "0.2.0.json", data)
}

func tampered(t *testing.T, mirror string) []byte {
	z := bytes.Clone(read(t, mirror, release.ZipName(cur)))
	z[len(z)/2] ^= 0xff
	return z
}

func tamperCases() []badCase {
	zipName, sums := release.ZipName(cur), release.SumsName()
	return []badCase{
		{name: "tampered archive", want: ErrChecksum, mirror: edit(func(t *testing.T, m string) {
			put(t, m, zipName, tampered(t, m))
		})},
		{name: "tampered archive with its zh hash", want: ErrChecksum, mirror: edit(func(t *testing.T, m string) {
			z := tampered(t, m)
			put(t, m, zipName, z)
			editDoc(t, m, func(d *versionDoc) { d.Archives[cur] = archiveDoc{URL: zipName, Hashes: []string{"zh:" + sha(z)}} })
		})},
		{name: "zh hash differs from SHA256SUMS", want: ErrChecksum, mirror: edit(func(t *testing.T, m string) {
			editDoc(t, m, func(d *versionDoc) { d.Archives[cur] = archiveDoc{URL: zipName, Hashes: []string{"zh:" + sha(nil)}} })
		})},
		{name: "SHA256SUMS changed after signing", want: ErrBadSignature, mirror: edit(func(t *testing.T, m string) {
			z := tampered(t, m)
			put(t, m, zipName, z)
			put(t, m, sums, mirrortest.Sums(map[string][]byte{zipName: z}))
		})},
		{name: "signature not OpenPGP", want: ErrBadSignature, mirror: edit(func(t *testing.T, m string) {
			put(t, m, sums+".sig", []byte("garbage"))
		})},
		{name: "signed by an untrusted key", want: ErrUntrustedKey, mirror: edit(func(t *testing.T, m string) {
			sig, err := stranger.Sign(read(t, m, sums))
			if err != nil {
				t.Fatal(err)
			}
			put(t, m, sums+".sig", sig)
		})},
		{name: "signature file missing", want: ErrMissingSignature, mirror: edit(func(t *testing.T, m string) {
			os.Remove(filepath.Join(m, "memory", sums+".sig"))
		})},
		{name: "no signature named", want: ErrMissingSignature, mirror: edit(func(t *testing.T, m string) {
			editDoc(t, m, func(d *versionDoc) { d.ShasumsSignature = "" })
		})},
		{name: "index not JSON", want: ErrMirror, mirror: edit(func(t *testing.T, m string) {
			put(t, m, "index.json", []byte("<html>maintenance</html>"))
		})},
		{name: "version document not JSON", want: ErrMirror, mirror: edit(func(t *testing.T, m string) {
			put(t, m, "0.2.0.json", []byte(`{"archives":`))
		})},
		{name: "archive outside the mirror", want: ErrMirror, mirror: edit(func(t *testing.T, m string) {
			editDoc(t, m, func(d *versionDoc) {
				d.Archives[cur] = archiveDoc{URL: "../../" + zipName, Hashes: d.Archives[cur].Hashes}
			})
		})},
		{name: "version not in the index", version: "9.9.9", want: ErrNoVersion, mirror: func(*testing.T) string { return template }},
		{name: "version without its document", version: "0.1.0", want: ErrNoVersion, mirror: func(*testing.T) string { return template }},
		{name: "platform the mirror lacks", platform: "windows_arm64", want: ErrNoPlatform, mirror: func(*testing.T) string { return template }},
	}
}

func serverCases() []badCase {
	handler := func(h http.HandlerFunc) func(t *testing.T) string {
		return func(t *testing.T) string {
			srv := httptest.NewServer(h)
			t.Cleanup(srv.Close)
			return srv.URL
		}
	}
	return []badCase{
		{name: "mirror times out", want: ErrMirror, opts: Options{Timeout: 300 * time.Millisecond},
			mirror: handler(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })},
		{name: "mirror answers 500", want: ErrMirror,
			mirror: handler(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", 500) })},
		{name: "mirror redirects forever", want: ErrMirror,
			mirror: handler(func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, r.URL.Path+"x", http.StatusFound) })},
		{name: "mirror redirects to plain http elsewhere", want: ErrMirror,
			mirror: handler(func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, "http://mirror.example.com"+r.URL.Path, http.StatusFound)
			})},
		{name: "mirror sends an endless index", want: ErrMirror,
			mirror: handler(func(w http.ResponseWriter, r *http.Request) {
				w.Write([]byte(`{"versions":{"`))
				for range 2 * maxDocument / 1024 {
					w.Write([]byte(strings.Repeat("9", 1024)))
				}
			})},
		{name: "archive on plain http elsewhere", want: ErrMirror, mirror: func(t *testing.T) string {
			m := clone(t)
			editDoc(t, m, func(d *versionDoc) {
				d.Archives[cur] = archiveDoc{URL: "http://mirror.example.com/" + release.ZipName(cur), Hashes: d.Archives[cur].Hashes}
			})
			return serve(t, m)
		}},
	}
}

// archiveCases are archives signed and hashed as they should be whose
// contents are refused.
func archiveCases() []badCase {
	bin := "swarm-backend-memory"
	withZip := func(entries ...zipEntry) func(t *testing.T) string {
		return func(t *testing.T) string {
			r := &mirrortest.Release{Name: "memory", Version: "0.2.0", Zips: map[string][]byte{cur: rawZip(t, entries...)}}
			m := t.TempDir()
			if err := r.WriteMirror(m, trusted); err != nil {
				t.Fatal(err)
			}
			return m
		}
	}
	return []badCase{
		{name: "extra file", want: ErrArchive, mirror: withZip(zipEntry{bin, 0o755, []byte("x")}, zipEntry{"README", 0o644, nil})},
		{name: "path traversal", want: ErrArchive, mirror: withZip(zipEntry{"../" + bin, 0o755, []byte("x")})},
		{name: "binary in a folder", want: ErrArchive, mirror: withZip(zipEntry{"bin/" + bin, 0o755, []byte("x")})},
		{name: "symlink", want: ErrArchive, mirror: withZip(zipEntry{bin, fs.ModeSymlink | 0o777, []byte("/etc/passwd")})},
		{name: "directory", want: ErrArchive, mirror: withZip(zipEntry{bin + "/", fs.ModeDir | 0o755, nil})},
		{name: "empty archive", want: ErrArchive, mirror: withZip()},
		{name: "zip bomb", want: ErrArchive, opts: Options{MaxBinarySize: 1 << 20}, mirror: withZip(zipEntry{bin, 0o755, make([]byte, 4<<20)})},
		{name: "zip bomb with a lying header", want: ErrArchive, opts: Options{MaxBinarySize: 1 << 20}, mirror: func(t *testing.T) string {
			r := &mirrortest.Release{Name: "memory", Version: "0.2.0", Zips: map[string][]byte{cur: lyingZip(t, bin, 4<<20)}}
			m := t.TempDir()
			if err := r.WriteMirror(m, trusted); err != nil {
				t.Fatal(err)
			}
			return m
		}},
	}
}

// lyingZip holds n zero bytes, deflated, under a header that says 10.
func lyingZip(t *testing.T, name string, n int) []byte {
	t.Helper()
	var deflated bytes.Buffer
	fw, _ := flate.NewWriter(&deflated, flate.BestCompression)
	fw.Write(make([]byte, n))
	fw.Close()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	fh := &zip.FileHeader{Name: name, Method: zip.Deflate, CompressedSize64: uint64(deflated.Len()), UncompressedSize64: 10}
	fh.SetMode(0o755)
	w, err := zw.CreateRaw(fh)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(deflated.Bytes())
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
