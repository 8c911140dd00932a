package thirdparty_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const (
	sdkModule  = "github.com/alphaswarm/controller/sdk"
	coreModule = "github.com/alphaswarm/controller/core"
)

// TestThirdPartyPlugin writes the tally plugin into a module of its own in
// a temporary directory, outside the workspace, requiring sdk and core
// through replace directives to this checkout. The plugin must import
// nothing of the controller but sdk and core, pass the conformance kit
// inside its own module with GOWORK=off, and be listed and locked by
// swarmctl like any plugin.
func TestThirdPartyPlugin(t *testing.T) {
	root, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	mod := writeModule(t, root)
	// The module is built alone, as its author would: no workspace, with
	// go.mod completed from what sdk and core require (from the module
	// cache, or the proxy when the cache is cold).
	env := append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod", "CGO_ENABLED=0")
	run := func(dir string, args ...string) string {
		t.Helper()
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Dir, cmd.Env = dir, env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}

	t.Run("ImportsOnlySDKAndCore", func(t *testing.T) {
		deps := strings.Fields(run(mod, "go", "list", "-deps", "-test", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", "."))
		var controller []string
		for _, d := range deps {
			if strings.HasPrefix(d, "github.com/alphaswarm/controller/") {
				controller = append(controller, d)
				if !strings.HasPrefix(d, sdkModule+"/") && d != sdkModule && !strings.HasPrefix(d, coreModule+"/") && d != coreModule {
					t.Errorf("the plugin depends on %s, which is neither sdk nor core", d)
				}
			}
		}
		if !slices.Contains(controller, sdkModule) || !slices.Contains(controller, coreModule) {
			t.Errorf("the plugin's controller dependencies %v lack sdk or core", controller)
		}
		imports := strings.Fields(run(mod, "go", "list", "-f", `{{join .Imports " "}} {{join .TestImports " "}}`, "."))
		for _, imp := range imports {
			if strings.Contains(imp, ".") && imp != sdkModule && imp != coreModule && imp != sdkModule+"/backendtest" {
				t.Errorf("the plugin imports %s; an author needs only sdk, sdk/backendtest and core", imp)
			}
		}
	})

	t.Run("PassesTheKit", func(t *testing.T) {
		out := run(mod, "go", "test", "-count=1", "-v", "-run", "^TestConformance$", ".")
		for _, check := range []string{"StateIsEnough", "CrashMidApply", "SecretsStaySecret", "ApplyHonoursCancellation", "ConcurrentDeployments", "scale"} {
			if !strings.Contains(out, "--- PASS: TestConformance/"+check+" ") {
				t.Errorf("the kit's %s check did not pass:\n%s", check, out)
			}
		}
	})

	t.Run("ListedAndLockedBySwarmctl", func(t *testing.T) {
		bin := t.TempDir()
		plugins := filepath.Join(bin, "plugins")
		if err := os.Mkdir(plugins, 0o755); err != nil {
			t.Fatal(err)
		}
		run(mod, "go", "build", "-o", filepath.Join(plugins, "swarm-backend-tally"), ".")
		swarmctl := filepath.Join(bin, "swarmctl")
		cmd := exec.Command("go", "build", "-o", swarmctl, "./host/cmd/swarmctl")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("build swarmctl: %v\n%s", err, out)
		}
		lockFile := filepath.Join(bin, "lock.hcl")
		swarm := func(args ...string) string {
			t.Helper()
			cmd := exec.Command(swarmctl, args...)
			cmd.Dir = bin
			cmd.Env = []string{"HOME=" + bin, "PATH=" + os.Getenv("PATH")}
			out, err := cmd.Output()
			if err != nil {
				stderr := ""
				if ee, ok := err.(*exec.ExitError); ok {
					stderr = string(ee.Stderr)
				}
				t.Fatalf("swarmctl %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr)
			}
			return string(out)
		}
		list := func() map[string]any {
			t.Helper()
			out := swarm("plugins", "list", "-json", "-plugin-dir", plugins, "-lock-file", lockFile)
			var rows []map[string]any
			if err := json.Unmarshal([]byte(out), &rows); err != nil {
				t.Fatalf("plugins list -json: %v\n%s", err, out)
			}
			if len(rows) != 1 || rows[0]["name"] != "tally" {
				t.Fatalf("plugins list -json shows %v, want only tally", rows)
			}
			return rows[0]
		}
		row := list()
		if row["version"] != "1.2.3" || row["protocol"] != float64(1) || row["error"] != nil ||
			fmt.Sprint(row["capabilities"]) != "[scale]" || row["hash_status"] != "unlocked" {
			t.Errorf("plugins list -json before locking: %v", row)
		}
		swarm("plugins", "lock", "-plugin-dir", plugins, "-lock-file", lockFile)
		lock, err := os.ReadFile(lockFile)
		if err != nil {
			t.Fatal(err)
		}
		sha, _ := row["sha256"].(string)
		if !strings.Contains(string(lock), `"tally"`) || sha == "" || !strings.Contains(string(lock), sha) {
			t.Errorf("the lock file does not pin tally at %s:\n%s", sha, lock)
		}
		if row := list(); row["hash_status"] != "locked" || row["error"] != nil {
			t.Errorf("plugins list -json after locking: %v", row)
		}
	})
}

// writeModule writes the tally module into a new directory outside the
// workspace and returns it. Its go.sum is the lines of sdk's and core's.
func writeModule(t *testing.T, root string) string {
	t.Helper()
	dir := t.TempDir()
	if rel, err := filepath.Rel(root, dir); err == nil && !strings.HasPrefix(rel, "..") {
		t.Fatalf("the module must be outside the workspace, but %s is in %s", dir, root)
	}
	goMod := fmt.Sprintf(`module example.com/tally

go 1.26.0

require (
	%[1]s v0.0.0-00010101000000-000000000000
	%[2]s v0.0.0-00010101000000-000000000000
)

replace %[1]s => %[3]s

replace %[2]s => %[4]s
`, sdkModule, coreModule, filepath.Join(root, "sdk"), filepath.Join(root, "core"))
	var sums []string
	for _, m := range []string{"sdk", "core"} {
		f, err := os.Open(filepath.Join(root, m, "go.sum"))
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if line := sc.Text(); line != "" && !slices.Contains(sums, line) {
				sums = append(sums, line)
			}
		}
		f.Close()
	}
	files := map[string]string{
		"go.mod":       goMod,
		"go.sum":       strings.Join(sums, "\n") + "\n",
		"main.go":      tallyMain,
		"main_test.go": tallyTest,
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}
