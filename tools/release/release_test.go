package main

import (
	"archive/zip"
	"bufio"
	"bytes"
	"debug/buildinfo"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"github.com/google/go-cmp/cmp"
)

// repoRoot is the workspace root, from this package's directory.
const repoRoot = "../.."

// testKey writes a fresh key pair made at 2020-09-13 into dir and returns
// the private key's path and the public key.
func testKey(t *testing.T, dir string) (string, []byte) {
	t.Helper()
	priv, pub, err := generateKey("release test", "test@alphaswarm.invalid", time.Unix(1_600_000_000, 0))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, privateKeyFile)
	if err := os.WriteFile(path, priv, 0o600); err != nil {
		t.Fatal(err)
	}
	return path, pub
}

// TestReproducibleRelease builds the same release twice, for two
// platforms and two plugins, into two directories: every file must be the
// same byte for byte, every signature must verify with the public key and
// be dated at the commit, every SHA256SUMS line must match its archive, and
// every archive must hold one 0755 binary at the commit time, built with
// the release's flags and version.
func TestReproducibleRelease(t *testing.T) {
	tmp := t.TempDir()
	key, pub := testKey(t, tmp)
	const version = "v0.9.7"
	build := func(out string) string {
		t.Helper()
		var stdout bytes.Buffer
		err := run([]string{"build", "-root", repoRoot, "-version", version, "-key", key, "-out", out,
			"-platforms", "linux_amd64,darwin_arm64", "-cli", "", "-goproxy", "",
			"-plugin", "compose=./plugins/compose/cmd/swarm-backend-compose",
			"-plugin", "memory=./examples/backend-memory/cmd/swarm-backend-memory"}, &stdout)
		if err != nil {
			t.Fatalf("release build: %v\n%s", err, stdout.String())
		}
		return filepath.Join(out, version)
	}
	t.Setenv("SOURCE_DATE_EPOCH", "1700000001")
	start := time.Now()
	a := build(filepath.Join(tmp, "a"))
	t.Logf("first build: %v", time.Since(start))
	b := build(filepath.Join(tmp, "b"))
	t.Logf("both builds: %v", time.Since(start))

	filesA, filesB := readTree(t, a), readTree(t, b)
	if diff := cmp.Diff(hashes(filesA), hashes(filesB)); diff != "" {
		t.Errorf("two builds of one commit differ (-a +b):\n%s", diff)
	}
	var top []string
	for name := range filesA {
		if !strings.Contains(name, "/") {
			top = append(top, name)
		}
	}
	slices.Sort(top)
	want := []string{
		"swarm-backend-compose_0.9.7_SHA256SUMS", "swarm-backend-compose_0.9.7_SHA256SUMS.sig",
		"swarm-backend-compose_0.9.7_darwin_arm64.zip", "swarm-backend-compose_0.9.7_linux_amd64.zip",
		"swarm-backend-memory_0.9.7_SHA256SUMS", "swarm-backend-memory_0.9.7_SHA256SUMS.sig",
		"swarm-backend-memory_0.9.7_darwin_arm64.zip", "swarm-backend-memory_0.9.7_linux_amd64.zip",
	}
	if diff := cmp.Diff(want, top); diff != "" {
		t.Errorf("release files (-want +got):\n%s", diff)
	}
	epoch := time.Unix(1700000001, 0).UTC()
	for _, name := range []string{"compose", "memory"} {
		prefix := "swarm-backend-" + name + "_0.9.7_"
		checkSignature(t, filesA[prefix+"SHA256SUMS"], filesA[prefix+"SHA256SUMS.sig"], pub, epoch)
		checkSums(t, filesA, prefix)
		for _, plat := range []string{"linux_amd64", "darwin_arm64"} {
			checkArchive(t, filesA[prefix+plat+".zip"], "swarm-backend-"+name, plat, epoch)
		}
	}
}

// readTree reads every file under dir, by slash path relative to it.
func readTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		b, err := os.ReadFile(path)
		files[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func hashes(files map[string][]byte) map[string]string {
	out := map[string]string{}
	for n, b := range files {
		out[n] = sha256Hex(b)
	}
	return out
}

// checkSignature verifies sig over sums with the armored public key pub and
// checks that it was made at epoch.
func checkSignature(t *testing.T, sums, sig, pub []byte, epoch time.Time) {
	t.Helper()
	keys, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(pub))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := openpgp.CheckDetachedSignature(keys, bytes.NewReader(sums), bytes.NewReader(sig), nil); err != nil {
		t.Errorf("the signature does not verify: %v", err)
	}
	tampered := append(bytes.Clone(sums), '\n')
	if _, err := openpgp.CheckDetachedSignature(keys, bytes.NewReader(tampered), bytes.NewReader(sig), nil); err == nil {
		t.Errorf("the signature verifies a changed SHA256SUMS")
	}
	p, err := packet.Read(bytes.NewReader(sig))
	if err != nil {
		t.Fatalf("read signature packet: %v", err)
	}
	s, ok := p.(*packet.Signature)
	if !ok {
		t.Fatalf("the .sig holds a %T, want one binary signature packet", p)
	}
	if !s.CreationTime.Equal(epoch) {
		t.Errorf("signature made at %v, want SOURCE_DATE_EPOCH %v", s.CreationTime, epoch)
	}
}

// checkSums checks that the SHA256SUMS with prefix lists exactly the
// product's zips, sorted, each with its SHA-256.
func checkSums(t *testing.T, files map[string][]byte, prefix string) {
	t.Helper()
	var got, want []string
	sc := bufio.NewScanner(bytes.NewReader(files[prefix+"SHA256SUMS"]))
	for sc.Scan() {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok {
			t.Errorf("SHA256SUMS line %q is not sha256sum's format", sc.Text())
			continue
		}
		got = append(got, name)
		if content, ok := files[name]; !ok || sha256Hex(content) != sum {
			t.Errorf("SHA256SUMS says %s for %s, which does not match it", sum, name)
		}
	}
	for n := range files {
		if strings.HasPrefix(n, prefix) && strings.HasSuffix(n, ".zip") {
			want = append(want, n)
		}
	}
	slices.Sort(want)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%sSHA256SUMS names (-want +got):\n%s", prefix, diff)
	}
}

// checkArchive checks one release zip: one regular file bin, 0755, no
// extra fields, deflated, at epoch, a binary for plat built with the
// release flags and carrying the version.
func checkArchive(t *testing.T, data []byte, bin, plat string, epoch time.Time) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("read %s zip for %s: %v", bin, plat, err)
	}
	if len(zr.File) != 1 {
		t.Fatalf("%s zip for %s holds %d files, want 1", bin, plat, len(zr.File))
	}
	f := zr.File[0]
	type header struct {
		Name   string
		Mode   fs.FileMode
		Method uint16
		Extra  int
		Time   time.Time
	}
	got := header{f.Name, f.Mode(), f.Method, len(f.Extra), f.Modified.UTC()}
	want := header{bin, 0o755, zip.Deflate, 0, epoch.Truncate(2 * time.Second)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s zip for %s (-want +got):\n%s", bin, plat, diff)
	}
	rc, err := f.Open()
	if err != nil {
		t.Fatal(err)
	}
	binary, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	info, err := buildinfo.Read(bytes.NewReader(binary))
	if err != nil {
		t.Fatalf("read build info of %s for %s: %v", bin, plat, err)
	}
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	goos, goarch, _ := strings.Cut(plat, "_")
	wantSettings := map[string]string{"-trimpath": "true", "CGO_ENABLED": "0", "GOOS": goos, "GOARCH": goarch}
	for k, v := range wantSettings {
		if settings[k] != v {
			t.Errorf("%s for %s built with %s=%q, want %q", bin, plat, k, settings[k], v)
		}
	}
	if _, ok := settings["vcs.revision"]; ok {
		t.Errorf("%s for %s carries VCS information; the release builds with -buildvcs=false", bin, plat)
	}
	// -trimpath keeps -ldflags out of the build information, so the
	// version is looked for in the binary itself.
	if !bytes.Contains(binary, []byte("0.9.7")) {
		t.Errorf("%s for %s does not carry version 0.9.7", bin, plat)
	}
}
