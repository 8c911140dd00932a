package main

import (
	"archive/zip"
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestGoGetSDKFromProxy is a third-party author's path through a release:
// a plugin module in a directory outside the repository, with no workspace
// and no replace directive, gets the SDK with "go get" at the release's
// version from the module proxy the release writes (everything else comes
// from this machine's module cache, served as a second proxy), builds, and
// passes the conformance kit. The go commands use a module cache of their
// own, so that no earlier run's copy of sdk or core stands in for the
// proxy's, and -trimpath, so that the build cache still serves packages
// compiled from an earlier run's module cache.
func TestGoGetSDKFromProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a plugin and runs the conformance kit")
	}
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	const version = "v0.1.0" // what sdk's go.mod requires of core
	proxy := filepath.Join(t.TempDir(), "goproxy")
	if err := writeGoproxy(root, version, []string{"core", "sdk"}, proxy, time.Unix(1700000001, 0)); err != nil {
		t.Fatal(err)
	}
	mod := t.TempDir()
	if strings.HasPrefix(mod, root+string(filepath.Separator)) {
		t.Fatalf("the plugin's module %s is inside the repository", mod)
	}
	copyTally(t, mod)
	sharedCache := goEnv(t, "GOMODCACHE")
	env := append(os.Environ(),
		"GOWORK=off", "GOFLAGS=-mod=mod -modcacherw -trimpath", "CGO_ENABLED=0", "GOTOOLCHAIN=local",
		"GOMODCACHE="+filepath.Join(t.TempDir(), "modcache"),
		"GOPROXY=file://"+filepath.ToSlash(proxy)+",file://"+filepath.ToSlash(filepath.Join(sharedCache, "cache", "download")),
		"GONOSUMDB=github.com/alphaswarm", "GOSUMDB=off")
	goCmd := func(args ...string) string {
		t.Helper()
		start := time.Now()
		cmd := exec.Command("go", args...)
		cmd.Dir, cmd.Env = mod, env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		t.Logf("go %s: %v", strings.Join(args, " "), time.Since(start).Round(time.Millisecond))
		return string(out)
	}
	goCmd("get", sdkPath+"@"+version)
	got := strings.Fields(goCmd("list", "-m", "-f", "{{.Path}} {{.Version}} {{.Replace}}", sdkPath, corePath))
	want := []string{sdkPath, version, "<nil>", corePath, version, "<nil>"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("modules the plugin builds with (-want +got):\n%s", diff)
	}
	goCmd("build", "-o", filepath.Join(t.TempDir(), "swarm-backend-tally"), ".")
	out := goCmd("test", "-count=1", "-v", "-run", "^TestConformance$", ".")
	for _, check := range []string{"StateIsEnough", "CrashMidApply", "SecretsStaySecret", "scale"} {
		if !strings.Contains(out, "--- PASS: TestConformance/"+check+" ") {
			t.Errorf("the kit's %s check did not pass:\n%s", check, out)
		}
	}
	installThirdParty(t, root, mod, env)
}

// installThirdParty releases the plugin in mod with this tool, as its
// author would, and installs it from a mirror like any other plugin.
func installThirdParty(t *testing.T, root, mod string, env []string) {
	t.Helper()
	tmp := t.TempDir()
	swarmctl := filepath.Join(tmp, "swarmctl")
	build := exec.Command("go", "build", "-o", swarmctl, "./host/cmd/swarmctl")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build swarmctl: %v\n%s", err, out)
	}
	for _, kv := range env { // the author's module builds outside the workspace
		k, v, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "GO") && k != "GOFLAGS" {
			t.Setenv(k, v)
		}
	}
	t.Setenv("SOURCE_DATE_EPOCH", "1700000001")
	key, pub := testKey(t, tmp)
	keys := filepath.Join(tmp, "author.asc")
	if err := os.WriteFile(keys, pub, 0o644); err != nil {
		t.Fatal(err)
	}
	here := runtime.GOOS + "_" + runtime.GOARCH
	cmdDir := filepath.Join(mod, "cmd", "swarm-backend-tally") // where the release tool expects a plugin's main
	src, err := os.ReadFile(filepath.Join(mod, "main.go"))
	if err == nil {
		err = os.MkdirAll(cmdDir, 0o755)
	}
	if err == nil {
		err = os.WriteFile(filepath.Join(cmdDir, "main.go"), src, 0o644)
	}
	if err != nil {
		t.Fatal(err)
	}
	var stdout bytes.Buffer
	if err := run([]string{"build", "-root", mod, "-version", "v1.0.0", "-key", key, "-out", filepath.Join(tmp, "dist"),
		"-platforms", here, "-cli", "", "-goproxy", "", "-plugin", "tally=./cmd/swarm-backend-tally"}, &stdout); err != nil {
		t.Fatalf("release the third-party plugin: %v\n%s", err, stdout.String())
	}
	mirror, plugins, lock := filepath.Join(tmp, "mirror"), filepath.Join(tmp, "plugins"), filepath.Join(tmp, "lock.hcl")
	for _, args := range [][]string{
		{"plugins", "mirror", mirror, "-from", filepath.Join(tmp, "dist", "v1.0.0"), "-trusted-keys", keys},
		{"plugins", "install", "tally", "-mirror", mirror, "-trusted-keys", keys, "-plugin-dir", plugins, "-lock", lock},
	} {
		if out, err := exec.Command(swarmctl, args...).CombinedOutput(); err != nil {
			t.Fatalf("swarmctl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	out, err := exec.Command(swarmctl, "plugins", "list", "-plugin-dir", plugins, "-lock-file", lock).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "tally") || !strings.Contains(string(out), "locked") {
		t.Errorf("plugins list after installing tally from the mirror: %v\n%s", err, out)
	}
}

const (
	sdkPath  = modulePrefix + "sdk"
	corePath = modulePrefix + "core"
)

// copyTally writes testdata/tally and a go.mod that names no version of
// the SDK yet: "go get" adds it.
func copyTally(t *testing.T, dir string) {
	t.Helper()
	for _, name := range []string{"main.go", "main_test.go"} {
		b, err := os.ReadFile(filepath.Join("testdata", "tally", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	goMod := "module example.com/swarm-backend-tally\n\ngo 1.26.0\n"
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(goMod), 0o644); err != nil {
		t.Fatal(err)
	}
}

func goEnv(t *testing.T, name string) string {
	t.Helper()
	out, err := exec.Command("go", "env", name).Output()
	if err != nil {
		t.Fatalf("go env %s: %v", name, err)
	}
	return strings.TrimSpace(string(out))
}

// TestGoproxyLayout writes the proxy twice: the same tree gives the same
// bytes, the module zip holds the module's files under module@version/ and
// leaves out what git ignores, and the .mod is the module's go.mod.
func TestGoproxyLayout(t *testing.T) {
	t.Parallel()
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Unix(1700000001, 0)
	a, b := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
	for _, dir := range []string{a, b} {
		if err := writeGoproxy(root, "v0.1.0", []string{"core"}, dir, at); err != nil {
			t.Fatal(err)
		}
	}
	filesA := readTree(t, a)
	if diff := cmp.Diff(hashes(filesA), hashes(readTree(t, b))); diff != "" {
		t.Errorf("two proxies of one tree differ (-a +b):\n%s", diff)
	}
	base := "github.com/alphaswarm/controller/core/@v/"
	wantInfo := `{"Version":"v0.1.0","Time":"2023-11-14T22:13:21Z"}`
	if got := string(filesA[base+"v0.1.0.info"]); got != wantInfo {
		t.Errorf(".info = %s, want %s", got, wantInfo)
	}
	if got := string(filesA[base+"list"]); got != "v0.1.0\n" {
		t.Errorf("list = %q, want %q", got, "v0.1.0\n")
	}
	goMod, err := os.ReadFile(filepath.Join(root, "core", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(filesA[base+"v0.1.0.mod"], goMod) {
		t.Errorf(".mod is not core/go.mod:\n%s", filesA[base+"v0.1.0.mod"])
	}
	zipped := filesA[base+"v0.1.0.zip"]
	zr, err := zip.NewReader(bytes.NewReader(zipped), int64(len(zipped)))
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, f := range zr.File {
		names[f.Name] = true
		if !strings.HasPrefix(f.Name, corePath+"@v0.1.0/") {
			t.Errorf("module zip entry %s is outside %s@v0.1.0/", f.Name, corePath)
		}
	}
	for _, want := range []string{"go.mod", "doc.go"} {
		if !names[corePath+"@v0.1.0/"+want] {
			t.Errorf("module zip lacks %s", want)
		}
	}
	rc, err := zr.Open(corePath + "@v0.1.0/go.mod")
	if err != nil {
		t.Fatal(err)
	}
	inZip, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Equal(inZip, goMod) {
		t.Errorf("the zip's go.mod differs from the .mod file")
	}
}

// TestGoproxyRefuses checks that a proxy is not written for modules whose
// sibling requirements it could not satisfy.
func TestGoproxyRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		version string
		mods    []string
		want    string
	}{
		{"sdk without core", "v0.1.0", []string{"sdk"}, "requires core v0.1.0, which this proxy does not serve"},
		{"sdk at another version than it requires core", "v0.2.0", []string{"core", "sdk"}, "serve sdk v0.2.0: it requires core v0.1.0"},
		{"not a released module", "v0.1.0", []string{"tools"}, `check module "tools": not a released module`},
		{"a path outside the repository", "v0.1.0", []string{"../etc"}, `check module "../etc": not a released module`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := writeGoproxy(repoRoot, tt.version, tt.mods, t.TempDir(), time.Unix(0, 0))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("writeGoproxy(%s, %v) = %v, want an error containing %q", tt.version, tt.mods, err, tt.want)
			}
		})
	}
}
