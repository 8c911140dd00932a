package cli

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/alphaswarm/controller/host/internal/pluginmgr"
	"github.com/alphaswarm/controller/host/internal/pluginmirror"
	"github.com/alphaswarm/controller/host/internal/pluginmirror/mirrortest"
)

// releaseFixture is memory 0.1.0 released as "make release" lays it out:
// the real binary for this platform, any bytes for another, signed by a
// key in keys; stranger is a key file of someone else's key.
type releaseFixture struct {
	dir, keys, stranger string
	cur, other          string
	bin                 []byte
}

var (
	fixtureOnce sync.Once
	fixture     releaseFixture
	fixtureErr  error
)

func release(t *testing.T) releaseFixture {
	t.Helper()
	fixtureOnce.Do(func() { fixture, fixtureErr = makeRelease() })
	if fixtureErr != nil {
		t.Fatal(fixtureErr)
	}
	return fixture
}

func makeRelease() (releaseFixture, error) {
	f := releaseFixture{cur: pluginmirror.CurrentPlatform(), other: "darwin_arm64"}
	if f.cur == f.other {
		f.other = "linux_amd64"
	}
	tmp, err := os.MkdirTemp("", "cli-release-")
	if err != nil {
		return f, err
	}
	if f.bin, err = os.ReadFile(filepath.Join(pluginDir, "swarm-backend-memory")); err != nil {
		return f, err
	}
	signer, err := mirrortest.NewSigner("releases@alphaswarm.test")
	if err != nil {
		return f, err
	}
	stranger, err := mirrortest.NewSigner("someone@else.test")
	if err != nil {
		return f, err
	}
	f.keys, f.stranger = filepath.Join(tmp, "trusted.asc"), filepath.Join(tmp, "stranger.asc")
	if err := os.WriteFile(f.keys, signer.PublicKey, 0o644); err != nil {
		return f, err
	}
	if err := os.WriteFile(f.stranger, stranger.PublicKey, 0o644); err != nil {
		return f, err
	}
	r, err := mirrortest.NewRelease("memory", "0.1.0", map[string][]byte{f.cur: f.bin, f.other: []byte("other platform")})
	if err != nil {
		return f, err
	}
	f.dir = filepath.Join(tmp, "dist", "v0.1.0")
	return f, r.WriteRelease(f.dir, signer)
}

// mirrorOf builds a mirror directory from the release with swarmctl.
func mirrorOf(t *testing.T, f releaseFixture) string {
	t.Helper()
	mirror := filepath.Join(t.TempDir(), "mirror")
	code, out, errOut := run("plugins", "mirror", mirror, "-from", f.dir, "-trusted-keys", f.keys)
	if code != 0 || !strings.Contains(out, "Added memory 0.1.0") {
		t.Fatalf("plugins mirror: exit %d\n%s%s", code, out, errOut)
	}
	return mirror
}

// TestPluginsInstallListLockFromMirror builds a mirror from a release,
// installs from it over HTTP on loopback, lists the plugin as locked with
// its offline validation, then adds another platform's hash to the lock,
// which the host still accepts here.
func TestPluginsInstallListLockFromMirror(t *testing.T) {
	t.Parallel()
	f := release(t)
	mirror := mirrorOf(t, f)
	srv := httptest.NewServer(http.FileServer(http.Dir(mirror)))
	defer srv.Close()
	plugins, lock := t.TempDir(), filepath.Join(t.TempDir(), pluginmgr.DefaultLockFile)
	code, out, errOut := run("plugins", "install", "memory", "-mirror", srv.URL, "-trusted-keys", f.keys, "-plugin-dir", plugins, "-lock", lock)
	if code != 0 || !strings.Contains(out, "Installed memory 0.1.0 for "+f.cur) {
		t.Fatalf("install: exit %d\n%s%s", code, out, errOut)
	}
	report := listOne(t, plugins, lock)
	if report.Hash != "locked" || !report.Offline || !strings.HasSuffix(report.Path, filepath.Join("memory", "0.1.0", f.cur, "swarm-backend-memory")) {
		t.Errorf("after install: %+v", report)
	}
	code, out, errOut = run("plugins", "list", "-plugin-dir", plugins, "-lock-file", lock)
	wantRow := []string{"memory", report.Version, "1", joinCaps(report.Capabilities), yesNo(report.Offline), "locked"}
	if code != 0 || !strings.Contains(out, "OFFLINE") || !containsFields(out, wantRow) {
		t.Errorf("table without the offline column %v: exit %d\n%s%s", wantRow, code, out, errOut)
	}
	code, out, errOut = run("plugins", "lock", "-mirror", mirror, "-trusted-keys", f.keys, "-platform", f.other, "-platform", f.cur, "-lock-file", lock)
	if code != 0 {
		t.Fatalf("lock -platform: exit %d\n%s%s", code, out, errOut)
	}
	lf, err := pluginmgr.ReadLockFile(lock)
	if err != nil {
		t.Fatal(err)
	}
	want := &pluginmgr.LockFile{Plugins: []pluginmgr.LockedPlugin{{Name: "memory", Version: "0.1.0", Hashes: sortedHashes(f.bin, []byte("other platform"))}}}
	if diff := cmp.Diff(want, lf); diff != "" {
		t.Errorf("lock file (-want +got):\n%s", diff)
	}
	if r := listOne(t, plugins, lock); r.Hash != "locked" || r.Error != "" {
		t.Errorf("the host does not accept the two-platform lock: %+v", r)
	}
	// Locking from the plugin dir again keeps the other platform's hash.
	if code, out, errOut := run("plugins", "lock", "-plugin-dir", plugins, "-lock-file", lock); code != 0 {
		t.Fatalf("lock again: exit %d\n%s%s", code, out, errOut)
	}
	if lf, err = pluginmgr.ReadLockFile(lock); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, lf); diff != "" {
		t.Errorf("lock file after locking here again (-want +got):\n%s", diff)
	}
}

// containsFields reports whether a line of out has fields as its first
// fields.
func containsFields(out string, fields []string) bool {
	for _, line := range strings.Split(out, "\n") {
		got := strings.Fields(line)
		if len(got) >= len(fields) && cmp.Equal(got[:len(fields)], fields) {
			return true
		}
	}
	return false
}

func listOne(t *testing.T, plugins, lock string) pluginReport {
	t.Helper()
	code, out, errOut := run("plugins", "list", "-json", "-plugin-dir", plugins, "-lock-file", lock)
	var reports []pluginReport
	if err := json.Unmarshal([]byte(out), &reports); err != nil || len(reports) != 1 {
		t.Fatalf("list: exit %d, %v\n%s%s", code, err, out, errOut)
	}
	return reports[0]
}

func sortedHashes(bins ...[]byte) []string {
	lock := &pluginmgr.LockFile{}
	for _, b := range bins {
		pluginmirror.Record(lock, "x", "1.0.0", "sha256:"+hexSum(b))
	}
	return lock.Plugins[0].Hashes
}

// TestPluginsInstallRefuses runs bad installs: each fails with exit 1 and
// one error naming plugin, version and platform, and leaves the plugin
// dir empty and the lock file byte for byte as it was.
func TestPluginsInstallRefuses(t *testing.T) {
	t.Parallel()
	f := release(t)
	mirror := mirrorOf(t, f)
	for _, tc := range []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"untrusted key", []string{"memory", "-trusted-keys", f.stranger}, 1,
			[]string{`plugin "memory" 0.1.0 for ` + f.cur, "untrusted key", "not among the 1 key(s)"}},
		{"version missing", []string{"memory@0.9.0"}, 1, []string{`plugin "memory" 0.9.0 for ` + f.cur, "no such version", "has 0.1.0"}},
		{"platform missing", []string{"memory", "-platform", "windows_arm64"}, 1, []string{`plugin "memory" 0.1.0 for windows_arm64`, "no archive for the platform"}},
		{"plain http mirror elsewhere", []string{"memory", "-mirror", "http://mirror.example.com/"}, 1, []string{"plain http is allowed only on loopback"}},
		{"name that is a path", []string{"../memory"}, 2, []string{`check plugin name "../memory"`}},
		{"no keys", []string{"memory", "-trusted-keys", ""}, 1, []string{"-mirror and -trusted-keys are both required"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			plugins, lock := t.TempDir(), filepath.Join(t.TempDir(), pluginmgr.DefaultLockFile)
			before := []byte("# hand-written\n")
			if err := os.WriteFile(lock, before, 0o644); err != nil {
				t.Fatal(err)
			}
			// The case's flags come last: the flag package keeps the last
			// value.
			args := append([]string{"plugins", "install", "-mirror", mirror, "-trusted-keys", f.keys, "-plugin-dir", plugins, "-lock", lock}, tc.args...)
			code, out, errOut := run(args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\n%s%s", code, tc.code, out, errOut)
			}
			for _, w := range tc.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr does not say %q:\n%s", w, errOut)
				}
			}
			if entries, _ := os.ReadDir(plugins); len(entries) != 0 {
				t.Errorf("plugin dir not empty: %v", entries)
			}
			if after, _ := os.ReadFile(lock); !bytes.Equal(before, after) {
				t.Errorf("lock file changed:\n%s", after)
			}
		})
	}
}

func hexSum(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
