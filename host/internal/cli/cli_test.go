package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alphaswarm/controller/host/internal/pluginmgr"
	"github.com/alphaswarm/controller/host/internal/testbin"
	"github.com/alphaswarm/controller/sdk"
)

var pluginDir string

func TestMain(m *testing.M) {
	tmp, err := os.MkdirTemp("", "cli-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if pluginDir, err = testbin.PluginDir(tmp, false); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(tmp)
	os.Exit(code)
}

func run(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = Main(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// copyPluginDir gives a test its own plugin directory to tamper with.
func copyPluginDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	src, err := os.ReadFile(filepath.Join(pluginDir, "swarm-backend-memory"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "swarm-backend-memory"), src, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestPluginsListShowsMemory(t *testing.T) {
	t.Parallel()
	lock := filepath.Join(t.TempDir(), "none.hcl")
	code, out, errOut := run("plugins", "list", "-json", "-plugin-dir", pluginDir, "-lock-file", lock)
	if code != 0 {
		t.Fatalf("exit %d, stderr: %s", code, errOut)
	}
	var reports []pluginReport
	if err := json.Unmarshal([]byte(out), &reports); err != nil {
		t.Fatalf("decode %s: %v", out, err)
	}
	if len(reports) != 1 {
		t.Fatalf("want one plugin, got %+v", reports)
	}
	r := reports[0]
	if r.Name != "memory" || r.Version == "" || r.Protocol != 1 || r.Hash != "unlocked" {
		t.Errorf("report %+v", r)
	}
	for _, c := range sdk.AllCapabilities {
		if !r.Capabilities.Has(c) {
			t.Errorf("memory does not show capability %s", c)
		}
	}
	code, out, _ = run("plugins", "list", "-plugin-dir", pluginDir, "-lock-file", lock)
	if code != 0 || !strings.Contains(out, "NAME") || !strings.Contains(out, "memory") {
		t.Errorf("table: exit %d\n%s", code, out)
	}
}

// TestLockThenTamper is the acceptance check: after "plugins lock",
// appending one byte to the binary makes "plugins list" fail naming it.
func TestLockThenTamper(t *testing.T) {
	t.Parallel()
	dir := copyPluginDir(t)
	lock := filepath.Join(t.TempDir(), pluginmgr.DefaultLockFile)
	if code, out, errOut := run("plugins", "lock", "-plugin-dir", dir, "-lock-file", lock); code != 0 {
		t.Fatalf("lock: exit %d\n%s%s", code, out, errOut)
	}
	lf, err := pluginmgr.ReadLockFile(lock)
	if err != nil || lf.Find("memory") == nil {
		t.Fatalf("lock file: %+v, %v", lf, err)
	}
	locked := lf.Find("memory").Hashes[0]
	if code, out, errOut := run("plugins", "list", "-plugin-dir", dir, "-lock-file", lock); code != 0 || !strings.Contains(out, "locked") {
		t.Fatalf("list after lock: exit %d\n%s%s", code, out, errOut)
	}
	f, err := os.OpenFile(filepath.Join(dir, "swarm-backend-memory"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte{0})
	f.Close()
	code, out, errOut := run("plugins", "list", "-plugin-dir", dir, "-lock-file", lock)
	if code == 0 {
		t.Fatalf("list after tampering exited 0:\n%s", out)
	}
	for _, want := range []string{`plugin "memory"`, "expected " + locked, "binary is sha256:"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr does not say %q:\n%s", want, errOut)
		}
	}
	if !strings.Contains(out, "mismatch") {
		t.Errorf("table does not show the mismatch:\n%s", out)
	}
}

func TestCommandErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"deploy-everything"}, exitUsage, `unknown command "deploy-everything"`},
		{[]string{"plugins"}, exitUsage, "Usage: swarmctl plugins"},
		{[]string{"plugins", "frobnicate"}, exitUsage, `unknown plugins command "frobnicate"`},
		{[]string{"plugins", "list", "-colour"}, exitUsage, "flag provided but not defined: -colour"},
		{[]string{"plugins", "list", "-plugin-dir", "/nonexistent/dir"}, exitError, "no plugins found in /nonexistent/dir"},
		{[]string{"version", "extra"}, exitUsage, `unexpected argument "extra"`},
	}
	for _, tc := range cases {
		code, _, errOut := run(tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("swarmctl %v: exit %d, stderr %q; want exit %d and %q", tc.args, code, errOut, tc.code, tc.want)
		}
	}
}

func TestVersionJSON(t *testing.T) {
	t.Parallel()
	code, out, _ := run("version", "-json")
	var v struct {
		Version  string `json:"version"`
		Protocol int    `json:"plugin_protocol"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &v) != nil || v.Version == "" || v.Protocol != sdk.ProtocolVersion {
		t.Errorf("version -json: exit %d, %q", code, out)
	}
}
