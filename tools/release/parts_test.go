package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/google/go-cmp/cmp"
)

func TestCheckVersion(t *testing.T) {
	t.Parallel()
	tests := []struct {
		version string
		ok      bool
	}{
		{"v0.2.0", true},
		{"v1.10.3", true},
		{"v0.2.0-rc.1", true},
		{"0.2.0", false},
		{"v0.2", false},
		{"v0.2.0+build", false},
		{"v0.2.0/../../etc", false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.version, func(t *testing.T) {
			t.Parallel()
			if err := checkVersion(tt.version); (err == nil) != tt.ok {
				t.Errorf("checkVersion(%q) = %v, want ok=%v", tt.version, err, tt.ok)
			}
		})
	}
}

func TestProducts(t *testing.T) {
	t.Parallel()
	type got struct {
		Name, VersionVar string
		Platforms        []string
	}
	tests := []struct {
		name    string
		cli     string
		plugins []string
		only    []string
		want    []got
		wantErr string
	}{
		{
			name: "windows for swarmctl only", cli: "./host/cmd/swarmctl",
			plugins: []string{"aws=./plugins/aws/cmd/swarm-backend-aws"}, only: []string{"windows_amd64", "linux_arm64"},
			want: []got{
				{"swarmctl", modulePrefix + "host/internal/version.Version", []string{"linux_arm64", "windows_amd64"}},
				{"swarm-backend-aws", modulePrefix + "plugins/aws.version", []string{"linux_arm64"}},
			},
		},
		{
			name: "every platform", plugins: []string{"memory=./examples/backend-memory/cmd/swarm-backend-memory"},
			want: []got{{"swarm-backend-memory", modulePrefix + "examples/backend-memory.version", pluginPlatforms}},
		},
		{name: "unknown platform", plugins: []string{"aws=./plugins/aws/cmd/swarm-backend-aws"}, only: []string{"plan9_386"}, wantErr: `check platform "plan9_386"`},
		{name: "no package", plugins: []string{"aws"}, wantErr: `read -plugin "aws"`},
		{name: "a name that is a path", plugins: []string{"../x=./plugins/aws/cmd/swarm-backend-aws"}, wantErr: `read -plugin "../x=`},
		{name: "an absolute package", plugins: []string{"aws=/tmp/evil"}, wantErr: `read -plugin "aws=/tmp/evil"`},
		{name: "nothing", wantErr: "nothing to build"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ps, err := products(tt.cli, tt.plugins, tt.only)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("products = %v, want an error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var g []got
			for _, p := range ps {
				g = append(g, got{p.name, p.versionVar, p.platforms})
			}
			if diff := cmp.Diff(tt.want, g); diff != "" {
				t.Errorf("products (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMsDosTime(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in       time.Time
		date, tm uint16
	}{
		{time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC), 1<<5 | 1, 0},
		{time.Date(2023, 11, 14, 22, 13, 21, 0, time.UTC), 43<<9 | 11<<5 | 14, 22<<11 | 13<<5 | 10},
		{time.Date(2023, 11, 15, 0, 13, 21, 0, time.FixedZone("CET", 7200)), 43<<9 | 11<<5 | 14, 22<<11 | 13<<5 | 10},
		{time.Unix(0, 0), 1<<5 | 1, 0},
	}
	for _, tt := range tests {
		d, tm := msDosTime(tt.in)
		if d != tt.date || tm != tt.tm {
			t.Errorf("msDosTime(%v) = %#x %#x, want %#x %#x", tt.in, d, tm, tt.date, tt.tm)
		}
	}
}

func TestShaSums(t *testing.T) {
	t.Parallel()
	got := string(shaSums(map[string]string{"b.zip": strings.Repeat("b", 64), "a.zip": strings.Repeat("a", 64)}))
	want := strings.Repeat("a", 64) + "  a.zip\n" + strings.Repeat("b", 64) + "  b.zip\n"
	if got != want {
		t.Errorf("shaSums = %q, want %q", got, want)
	}
}

// TestSigningKey covers genkey's files and the keys build refuses. It sets
// $RELEASE_SIGNING_PASSPHRASE, so it does not run in parallel.
func TestSigningKey(t *testing.T) {
	t.Setenv(passphraseEnv, "")
	dir := t.TempDir()
	var out bytes.Buffer
	if err := run([]string{"genkey", "-out", dir}, &out); err != nil {
		t.Fatal(err)
	}
	priv, pub := filepath.Join(dir, privateKeyFile), filepath.Join(dir, publicKeyFile)
	if fi, err := os.Stat(priv); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("private key file %v, %v: want mode 0600", fi, err)
	}
	if err := run([]string{"genkey", "-out", dir}, &out); err == nil {
		t.Errorf("genkey overwrote an existing key")
	}
	signer, err := loadSigner(priv)
	if err != nil {
		t.Fatal(err)
	}
	if got := signer.PrimaryKey.PubKeyAlgo.CanSign(); !got {
		t.Errorf("the generated key cannot sign")
	}
	encrypted := filepath.Join(dir, "encrypted.asc")
	if err := signer.EncryptPrivateKeys([]byte("s3cret-pass"), nil); err != nil {
		t.Fatal(err)
	}
	b, err := armored(openpgp.PrivateKeyType, func(w io.Writer) error { return signer.SerializePrivateWithoutSigning(w, nil) })
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(encrypted, b, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, want string
	}{
		{"public key", pub, "holds no private key"},
		{"missing file", filepath.Join(dir, "none.asc"), "open signing key"},
		{"passphrase not set", encrypted, "set " + passphraseEnv},
		{"not a key", filepath.Join("testdata", "tally", "main.go"), "read signing key"},
	}
	for _, tt := range tests {
		_, err := loadSigner(tt.path)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: loadSigner = %v, want an error containing %q", tt.name, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%s: the error shows the passphrase: %v", tt.name, err)
		}
	}
	t.Setenv(passphraseEnv, "wrong")
	if _, err := loadSigner(encrypted); err == nil || !strings.Contains(err.Error(), "decrypt signing key") || strings.Contains(err.Error(), "wrong") {
		t.Errorf("loadSigner with a wrong passphrase = %v, want a decrypt error without the passphrase", err)
	}
	t.Setenv(passphraseEnv, "s3cret-pass")
	if _, err := loadSigner(encrypted); err != nil {
		t.Errorf("loadSigner with the passphrase: %v", err)
	}
	err = run([]string{"build", "-version", "v0.1.0", "-key", "", "-cli", "", "-plugin", "aws=./x"}, &out)
	if err == nil || !strings.Contains(err.Error(), "set RELEASE_SIGNING_KEY") {
		t.Errorf("build without a key = %v, want it to say what to set", err)
	}
}

// TestBuildChecksGoproxyFirst checks that a module proxy the release could
// not serve stops the build before anything is compiled or written.
func TestBuildChecksGoproxyFirst(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir()
	key, _ := testKey(t, tmp)
	out := filepath.Join(tmp, "dist")
	err := run([]string{"build", "-root", repoRoot, "-version", "v0.9.7", "-key", key, "-out", out, "-cli", "",
		"-plugin", "memory=./examples/backend-memory/cmd/swarm-backend-memory", "-goproxy", "core,sdk"}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "serve sdk v0.9.7: it requires core v0.1.0") {
		t.Fatalf("build = %v, want the proxy's refusal", err)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("the refused build wrote %s (%v)", out, err)
	}
}
