package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestReleaseInstallsFromMirror: what "make release" writes is what
// "swarmctl plugins mirror" and "plugins install" take. A release of the
// memory plugin for this platform and another becomes a mirror, installs
// from it, locks both platforms, and the installed plugin runs.
func TestReleaseInstallsFromMirror(t *testing.T) {
	tmp := t.TempDir()
	key, pub := testKey(t, tmp)
	keys := filepath.Join(tmp, "trusted.asc")
	if err := os.WriteFile(keys, pub, 0o644); err != nil {
		t.Fatal(err)
	}
	here := runtime.GOOS + "_" + runtime.GOARCH
	other := "darwin_arm64"
	if here == other {
		other = "linux_amd64"
	}
	const version = "v0.9.8"
	var stdout bytes.Buffer
	if err := run([]string{"build", "-root", repoRoot, "-version", version, "-key", key, "-out", filepath.Join(tmp, "dist"),
		"-platforms", here + "," + other, "-cli", "", "-goproxy", "",
		"-plugin", "memory=./examples/backend-memory/cmd/swarm-backend-memory"}, &stdout); err != nil {
		t.Fatalf("release build: %v\n%s", err, stdout.String())
	}
	swarmctl := filepath.Join(tmp, "swarmctl")
	if out, err := exec.Command("go", "build", "-o", swarmctl, repoRoot+"/host/cmd/swarmctl").CombinedOutput(); err != nil {
		t.Fatalf("build swarmctl: %v\n%s", err, out)
	}
	ctl := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(swarmctl, args...)
		cmd.Env = append(os.Environ(), "HOME="+tmp)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("swarmctl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	mirror, plugins, lock := filepath.Join(tmp, "mirror"), filepath.Join(tmp, "plugins"), filepath.Join(tmp, "swarm.lock.hcl")
	start := time.Now()
	ctl("plugins", "mirror", mirror, "-from", filepath.Join(tmp, "dist", version), "-trusted-keys", keys)
	ctl("plugins", "install", "memory@"+version, "-mirror", mirror, "-trusted-keys", keys, "-plugin-dir", plugins, "-lock", lock)
	ctl("plugins", "lock", "-mirror", mirror, "-trusted-keys", keys, "-platform", here, "-platform", other, "-lock-file", lock)
	t.Logf("mirror, install and lock: %v", time.Since(start))

	bin := filepath.Join(plugins, "memory", "0.9.8", here, "swarm-backend-memory")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("installed binary: %v", err)
	}
	src, err := os.ReadFile(lock)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(src), `"sha256:`); n != 2 {
		t.Errorf("lock file holds %d hashes, want one per platform (2):\n%s", n, src)
	}
	out := ctl("plugins", "list", "-plugin-dir", plugins, "-lock-file", lock)
	t.Logf("plugins list:\n%s", out)
	for _, want := range []string{"memory  0.9.8", "exec,logs", "locked"} { // launched, and its hash is in the lock
		if !strings.Contains(out, want) {
			t.Errorf("plugins list lacks %q for the installed memory 0.9.8:\n%s", want, out)
		}
	}
}
