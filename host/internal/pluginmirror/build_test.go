package pluginmirror

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/alphaswarm/controller/host/internal/pluginmirror/mirrortest"
)

// writeRelease writes memory at version for cur and other, with the given
// binaries' bytes, into a new release directory, with swarmctl's own
// archive beside it as "make release" leaves it.
func writeRelease(t *testing.T, version, content string) string {
	t.Helper()
	r, err := mirrortest.NewRelease("memory", version, map[string][]byte{cur: []byte(content + cur), other: []byte(content + other)})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "v"+version)
	if err := r.WriteRelease(dir, trusted); err != nil {
		t.Fatal(err)
	}
	cliZip := "swarmctl_" + version + "_linux_amd64.zip"
	put := map[string][]byte{cliZip: []byte("cli"), "swarmctl_" + version + "_SHA256SUMS": mirrortest.Sums(map[string][]byte{cliZip: []byte("cli")})}
	for name, data := range put {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestBuildThenInstall builds a mirror from two releases, checks its
// documents, and installs the newest from it.
func TestBuildThenInstall(t *testing.T) {
	t.Parallel()
	mirror := t.TempDir()
	for _, v := range []string{"0.1.0", "0.3.0"} {
		got, err := Build(mirror, writeRelease(t, v, "binary "+v), keys)
		if err != nil {
			t.Fatal(err)
		}
		want := []Published{{Name: "memory", Version: v, Platforms: sortedPair(cur, other)}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("published (-want +got):\n%s", diff)
		}
	}
	var idx map[string]map[string]map[string]any
	if err := json.Unmarshal(read(t, mirror, "index.json"), &idx); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]map[string]map[string]any{"versions": {"0.1.0": {}, "0.3.0": {}}}, idx); diff != "" {
		t.Errorf("index.json (-want +got):\n%s", diff)
	}
	var doc versionDoc
	if err := json.Unmarshal(read(t, mirror, "0.3.0.json"), &doc); err != nil {
		t.Fatal(err)
	}
	zipName := ArchiveName("memory", "0.3.0", cur)
	wantDoc := versionDoc{Shasums: SumsName("memory", "0.3.0"), ShasumsSignature: SumsName("memory", "0.3.0") + ".sig",
		Archives: map[string]archiveDoc{
			cur:   {URL: zipName, Hashes: []string{"zh:" + sha(read(t, mirror, zipName))}},
			other: {URL: ArchiveName("memory", "0.3.0", other), Hashes: []string{"zh:" + sha(read(t, mirror, ArchiveName("memory", "0.3.0", other)))}},
		}}
	if diff := cmp.Diff(wantDoc, doc); diff != "" {
		t.Errorf("0.3.0.json (-want +got):\n%s", diff)
	}
	m, err := Open(serve(t, mirror), Options{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := Install(context.Background(), Request{Mirror: m, Keys: keys, Name: "memory"}, t.TempDir(), filepath.Join(t.TempDir(), "lock.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != "0.3.0" || got.Hash != "sha256:"+sha([]byte("binary 0.3.0"+cur)) {
		t.Errorf("installed %+v, want 0.3.0 with the hash of its binary", got)
	}
}

func sortedPair(a, b string) []string {
	if a > b {
		a, b = b, a
	}
	return []string{a, b}
}

// TestBuildRefuses adds a bad release to a mirror that holds 0.1.0: each is
// refused before anything is written.
func TestBuildRefuses(t *testing.T) {
	t.Parallel()
	sums := SumsName("memory", "0.2.0")
	for _, tc := range []struct {
		name  string
		edit  func(t *testing.T, dir string)
		keys  *Keyring
		want  error // nil: any error
		again string
	}{
		{name: "archive differs from SHA256SUMS", want: ErrChecksum, edit: func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, ArchiveName("memory", "0.2.0", cur)), []byte("changed"), 0o644)
		}},
		{name: "archive not in SHA256SUMS", want: ErrChecksum, edit: func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, ArchiveName("memory", "0.2.0", "linux_riscv64")), []byte("stray"), 0o644)
		}},
		{name: "archive listed but absent", want: fs.ErrNotExist, edit: func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, ArchiveName("memory", "0.2.0", other)))
		}},
		{name: "signature missing", want: ErrMissingSignature, edit: func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, sums+".sig"))
		}},
		{name: "signed by an untrusted key", want: ErrUntrustedKey, keys: keys, edit: func(t *testing.T, dir string) {
			data, _ := os.ReadFile(filepath.Join(dir, sums))
			sig, err := stranger.Sign(data)
			if err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(dir, sums+".sig"), sig, 0o644)
		}},
		{name: "archive with an extra file", want: ErrArchive, edit: func(t *testing.T, dir string) {
			r := &mirrortest.Release{Name: "memory", Version: "0.2.0", Zips: map[string][]byte{
				cur: rawZip(t, zipEntry{"swarm-backend-memory", 0o755, []byte("x")}, zipEntry{"x", 0o644, nil})}}
			os.Remove(filepath.Join(dir, ArchiveName("memory", "0.2.0", other)))
			if err := r.WriteRelease(dir, trusted); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "published archive changed", want: ErrChecksum, again: "0.1.0"},
		{name: "no release at all", edit: func(t *testing.T, dir string) {
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				os.Remove(filepath.Join(dir, e.Name()))
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			mirror := t.TempDir()
			if _, err := Build(mirror, writeRelease(t, "0.1.0", "first"), nil); err != nil {
				t.Fatal(err)
			}
			before := snapshot(t, mirror)
			var dir string
			if tc.again != "" {
				dir = writeRelease(t, tc.again, "rebuilt differently")
			} else {
				dir = writeRelease(t, "0.2.0", "second")
				tc.edit(t, dir)
			}
			_, err := Build(mirror, dir, tc.keys)
			t.Log(err)
			if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			if diff := cmp.Diff(before, snapshot(t, mirror)); diff != "" {
				t.Errorf("mirror changed (-before +after):\n%s", diff)
			}
		})
	}
}

func TestPickVersion(t *testing.T) {
	t.Parallel()
	all := []string{"0.9.0", "0.10.0", "1.0.0-rc.1", "v2.0.0", "latest", "0.10.0+build"}
	for _, tc := range []struct {
		name, want, got string
		err             error
	}{
		{name: "newest release, semver order, no pre-release", got: "0.10.0"},
		{name: "pre-release when asked exactly", want: "1.0.0-rc.1", got: "1.0.0-rc.1"},
		{name: "older exact", want: "0.9.0", got: "0.9.0"},
		{name: "missing", want: "0.11.0", err: ErrNoVersion},
		{name: "keys that are not versions are ignored", want: "2.0.0", err: ErrNoVersion},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := pickVersion(all, tc.want)
			if got != tc.got || !errors.Is(err, tc.err) {
				t.Errorf("pickVersion(%q) = %q, %v; want %q, %v", tc.want, got, err, tc.got, tc.err)
			}
		})
	}
	if _, err := pickVersion([]string{"1.0.0-beta"}, ""); !errors.Is(err, ErrNoVersion) {
		t.Errorf("only a pre-release, no version asked: %v", err)
	}
}

func TestOpenChecksURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		base string
		ok   bool
	}{
		{"https://mirror.example.com/plugins", true},
		{"http://127.0.0.1:8080/", true},
		{"http://localhost/m", true},
		{"http://[::1]:9/", true},
		{"http://mirror.example.com/", false},
		{"ftp://mirror.example.com/", false},
		{"file:///etc", false},
		{"https://user:secret@mirror.example.com/", false},
		{"https:///nohost", false},
	} {
		t.Run(tc.base, func(t *testing.T) {
			t.Parallel()
			_, err := Open(tc.base, Options{})
			if (err == nil) != tc.ok {
				t.Errorf("Open(%q): %v, want ok=%v", tc.base, err, tc.ok)
			}
			if err != nil && contains(err.Error(), "secret") == "" {
				t.Errorf("error shows the password: %v", err)
			}
		})
	}
}

// TestRemoteMirrorCannotReachLoopback: a remote mirror's references and
// redirects may not lead to this machine; a loopback mirror's may.
func TestRemoteMirrorCannotReachLoopback(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		base, ref string
		ok        bool
	}{
		{"https://mirror.example.com/plugins/", "swarm-backend-aws_0.2.0_linux_amd64.zip", true},
		{"https://mirror.example.com/plugins/", "https://cdn.example.com/aws.zip", true},
		{"https://mirror.example.com/plugins/", "https://127.0.0.1/aws.zip", false},
		{"https://mirror.example.com/plugins/", "https://localhost:8443/aws.zip", false},
		{"https://mirror.example.com/plugins/", "https://[::1]/aws.zip", false},
		{"http://127.0.0.1:8080/", "https://localhost:8443/aws.zip", true},
	} {
		t.Run(tc.base+" "+tc.ref, func(t *testing.T) {
			t.Parallel()
			m, err := Open(tc.base, Options{})
			if err != nil {
				t.Fatal(err)
			}
			from := m.doc("aws", "0.2.0.json")
			if _, err := m.resolve(from, tc.ref); (err == nil) != tc.ok {
				t.Errorf("resolve(%q) from %s: %v, want ok=%v", tc.ref, tc.base, err, tc.ok)
			}
			to, _ := url.Parse(tc.ref)
			if !to.IsAbs() {
				return
			}
			if err := reachableFrom(from.url, to); (err == nil) != tc.ok {
				t.Errorf("a redirect from %s to %s: %v, want ok=%v", tc.base, tc.ref, err, tc.ok)
			}
		})
	}
}

func TestParseKeyringRefusesPrivateKeysAndGarbage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		data string
		n    int
	}{
		{"one key", string(trusted.PublicKey), 1},
		{"two blocks in one file", string(trusted.PublicKey) + string(stranger.PublicKey), 2},
		{"nothing armored", "hello", 0},
		{"private key", "-----BEGIN PGP PRIVATE KEY BLOCK-----\n", 0},
		{"broken block", "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nAAAA\n-----END PGP PUBLIC KEY BLOCK-----\n", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			k, err := ParseKeyring([]byte(tc.data), "keys.asc")
			switch {
			case tc.n == 0 && err == nil:
				t.Errorf("accepted, %d keys", k.Len())
			case tc.n > 0 && (err != nil || k.Len() != tc.n):
				t.Errorf("got %v, want %d keys", err, tc.n)
			}
		})
	}
}

func TestParseRef(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		ref, name, version string
		ok                 bool
	}{
		{"aws", "aws", "", true},
		{"aws@0.2.0", "aws", "0.2.0", true},
		{"aws@v0.2.0", "aws", "0.2.0", true},
		{"aws@", "", "", false},
		{"aws@v", "", "", false},
		{"../aws@0.2.0", "", "", false},
	} {
		name, version, err := ParseRef(tc.ref)
		if (err == nil) != tc.ok || name != tc.name || version != tc.version {
			t.Errorf("ParseRef(%q) = %q, %q, %v; want %q, %q, ok=%v", tc.ref, name, version, err, tc.name, tc.version, tc.ok)
		}
	}
}
