package pluginmirror

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/alphaswarm/controller/host/internal/pluginmgr"
)

// TestInstallThenLaunch installs from a directory mirror and from an HTTP
// mirror on loopback; the host then finds the plugin, accepts it through
// the lock file and runs it.
func TestInstallThenLaunch(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		base func(t *testing.T) string
	}{
		{"directory", func(*testing.T) string { return template }},
		{"http loopback", func(t *testing.T) string { return serve(t, template) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m, err := Open(tc.base(t), Options{})
			if err != nil {
				t.Fatal(err)
			}
			plugins, lockPath := t.TempDir(), filepath.Join(t.TempDir(), pluginmgr.DefaultLockFile)
			start := time.Now()
			got, err := Install(context.Background(), Request{Mirror: m, Keys: keys, Name: "memory"}, plugins, lockPath)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("installed %d bytes (archive %d) in %v", len(realBin), len(release.Zips[cur]), time.Since(start))
			want := &Installed{Name: "memory", Version: "0.2.0", Platform: cur, Hash: "sha256:" + sha(realBin),
				Path: filepath.Join(plugins, "memory", "0.2.0", cur, "swarm-backend-memory")}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("installed (-want +got):\n%s", diff)
			}
			lock, err := pluginmgr.ReadLockFile(lockPath)
			if err != nil {
				t.Fatal(err)
			}
			wantLock := &pluginmgr.LockFile{Plugins: []pluginmgr.LockedPlugin{{Name: "memory", Version: "0.2.0", Hashes: []string{want.Hash}}}}
			if diff := cmp.Diff(wantLock, lock); diff != "" {
				t.Errorf("lock file (-want +got):\n%s", diff)
			}
			launch(t, plugins, lock)
		})
	}
}

// launch has pluginmgr find the memory plugin in plugins, check it against
// lock and start it.
func launch(t *testing.T, plugins string, lock *pluginmgr.LockFile) {
	t.Helper()
	mgr := pluginmgr.New(pluginmgr.Config{PluginDirs: []string{plugins}, Lock: lock, StartTimeout: 30 * time.Second})
	defer mgr.Close()
	p, err := mgr.Plugin("memory")
	if err != nil {
		t.Fatal(err)
	}
	if p.Version != "0.2.0" || p.Dev {
		t.Errorf("discovered %+v, want release 0.2.0", p)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	info, err := mgr.Describe(ctx, p)
	if err != nil {
		t.Fatalf("launch installed plugin: %v", err)
	}
	if info.Name != "memory" {
		t.Errorf("plugin says it is %q", info.Name)
	}
}

// TestLockWithTwoPlatforms records the hashes of both platforms' binaries
// from the signed mirror; the host accepts the lock here, and refuses a
// lock holding only the other platform's hash.
func TestLockWithTwoPlatforms(t *testing.T) {
	t.Parallel()
	m, err := Open(serve(t, template), Options{})
	if err != nil {
		t.Fatal(err)
	}
	hashes, err := Hashes(context.Background(), m, keys, "memory", "0.2.0", []string{other, cur})
	if err != nil {
		t.Fatal(err)
	}
	otherHash := "sha256:" + sha([]byte("darwin bytes"))
	if diff := cmp.Diff([]string{otherHash, "sha256:" + sha(realBin)}, hashes); diff != "" {
		t.Errorf("hashes (-want +got):\n%s", diff)
	}
	plugins := t.TempDir()
	dest := filepath.Join(plugins, "memory", "0.2.0", cur)
	if err := os.MkdirAll(dest, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dest, "swarm-backend-memory"), realBin, 0o755); err != nil {
		t.Fatal(err)
	}
	onlyOther := &pluginmgr.LockFile{}
	Record(onlyOther, "memory", "0.2.0", otherHash)
	mgr := pluginmgr.New(pluginmgr.Config{PluginDirs: []string{plugins}, Lock: onlyOther})
	if _, _, err := mgr.Verify(mgr.Plugins()[0]); !errors.Is(err, pluginmgr.ErrRefused) {
		t.Errorf("a lock with only %s's hash: %v, want refused", other, err)
	}
	both := &pluginmgr.LockFile{}
	Record(both, "memory", "0.2.0", hashes...)
	launch(t, plugins, both)
}

// TestRecord keeps one entry per plugin: hashes add up within a version,
// and a new version replaces the old one's hashes.
func TestRecord(t *testing.T) {
	t.Parallel()
	h := func(c byte) string { return "sha256:" + sha([]byte{c}) }
	for _, tc := range []struct {
		name    string
		version string
		hashes  []string
		want    pluginmgr.LockedPlugin
	}{
		{"same version adds", "0.1.0", []string{h('b')}, pluginmgr.LockedPlugin{Name: "memory", Version: "0.1.0", Hashes: sorted(h('a'), h('b'))}},
		{"same hash once", "0.1.0", []string{h('a')}, pluginmgr.LockedPlugin{Name: "memory", Version: "0.1.0", Hashes: []string{h('a')}}},
		{"new version replaces", "0.2.0", []string{h('c')}, pluginmgr.LockedPlugin{Name: "memory", Version: "0.2.0", Hashes: []string{h('c')}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			lock := &pluginmgr.LockFile{Plugins: []pluginmgr.LockedPlugin{
				{Name: "memory", Version: "0.1.0", Hashes: []string{h('a')}}, {Name: "other", Hashes: []string{h('z')}}}}
			Record(lock, "memory", tc.version, tc.hashes...)
			want := &pluginmgr.LockFile{Plugins: []pluginmgr.LockedPlugin{tc.want, {Name: "other", Hashes: []string{h('z')}}}}
			if diff := cmp.Diff(want, lock); diff != "" {
				t.Errorf("lock (-want +got):\n%s", diff)
			}
		})
	}
}

func sorted(s ...string) []string {
	if s[0] > s[1] {
		s[0], s[1] = s[1], s[0]
	}
	return s
}

// TestReinstallReplacesAnotherBinary puts the mirror's binary in place of
// a different one of the same version, and keeps nothing aside.
func TestReinstallReplacesAnotherBinary(t *testing.T) {
	t.Parallel()
	m, err := Open(template, Options{})
	if err != nil {
		t.Fatal(err)
	}
	plugins, lockPath := t.TempDir(), filepath.Join(t.TempDir(), pluginmgr.DefaultLockFile)
	dest := filepath.Join(plugins, "memory", "0.2.0", cur)
	if err := os.MkdirAll(dest, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dest, "swarm-backend-memory"), []byte("stale"), 0o755); err != nil {
		t.Fatal(err)
	}
	got, err := Install(context.Background(), Request{Mirror: m, Keys: keys, Name: "memory", Version: "0.2.0"}, plugins, lockPath)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Replaced {
		t.Error("Replaced is false")
	}
	want := []string{
		". drwxr-xr-x", "memory drwxr-xr-x", "memory/0.2.0 drwxr-xr-x", "memory/0.2.0/" + cur + " drwxr-xr-x",
		"memory/0.2.0/" + cur + "/swarm-backend-memory -rwxr-xr-x " + sha(realBin),
	}
	if diff := cmp.Diff(want, snapshot(t, plugins)); diff != "" {
		t.Errorf("plugin dir (-want +got):\n%s", diff)
	}
}

// TestFailedLockWriteRemovesTheNewBinary: when the lock file cannot be
// written, the binary just placed is taken out again, also beside another
// platform of the same version whose directory already existed.
func TestFailedLockWriteRemovesTheNewBinary(t *testing.T) {
	t.Parallel()
	m, err := Open(template, Options{})
	if err != nil {
		t.Fatal(err)
	}
	plugins := t.TempDir()
	other := filepath.Join(plugins, "memory", "0.2.0", "plan9_amd64")
	if err := os.MkdirAll(other, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(other, "swarm-backend-memory"), []byte("other platform"), 0o755); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, plugins)
	lockPath := filepath.Join(t.TempDir(), "missing-dir", pluginmgr.DefaultLockFile)
	if _, err := Install(context.Background(), Request{Mirror: m, Keys: keys, Name: "memory", Version: "0.2.0"}, plugins, lockPath); err == nil {
		t.Fatal("Install succeeded though the lock file's directory does not exist")
	}
	if diff := cmp.Diff(before, snapshot(t, plugins)); diff != "" {
		t.Errorf("plugin dir changed by a failed install (-before +after):\n%s", diff)
	}
}

func TestFetchWithoutKeysRefuses(t *testing.T) {
	t.Parallel()
	m, err := Open(template, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []*Keyring{nil, {}} {
		if _, err := m.Fetch(context.Background(), k, "memory", "0.2.0", cur); !errors.Is(err, ErrUntrustedKey) {
			t.Errorf("Fetch with keys %v: %v, want %v", k, err, ErrUntrustedKey)
		}
	}
}
