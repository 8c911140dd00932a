package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/alphaswarm/controller/host/internal/pluginmgr"
	"github.com/alphaswarm/controller/host/internal/testbin"
	"github.com/alphaswarm/controller/sdk"
)

// pluginDir holds the memory plugin, faultyDir the faulty one.
var pluginDir, faultyDir string

func TestMain(m *testing.M) {
	tmp, err := os.MkdirTemp("", "cli-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if pluginDir, err = testbin.PluginDir(tmp, false); err == nil {
		faultyDir, err = testbin.FaultyDir(tmp)
	}
	if err != nil {
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
		{[]string{}, exitUsage, "no command given"},
		{[]string{"deploy-everything"}, exitUsage, `unknown command "deploy-everything"`},
		{[]string{"plugins"}, exitUsage, "missing the plugins command"},
		{[]string{"plugins", "frobnicate"}, exitUsage, `unknown plugins command "frobnicate"`},
		{[]string{"plugins", "list", "-colour"}, exitUsage, "unknown flag -colour"},
		{[]string{"plugins", "list", "-plugin-dir", "/nonexistent/dir"}, exitError, "no plugins found in /nonexistent/dir"},
		{[]string{"version", "extra"}, exitUsage, `unexpected argument "extra"`},
		{[]string{"apply", "a", "b"}, exitUsage, `unexpected argument "b"`},
		{[]string{"apply", "dir", "-auto-aprove"}, exitUsage, "unknown flag -auto-aprove"},
		{[]string{"logs", "demo/hello", "-tail"}, exitUsage, "flag needs an argument: -tail"},
		{[]string{"logs", "demo/hello", "-tail=x"}, exitUsage, `invalid value "x" for flag -tail`},
		{[]string{"logs", "demo/hello"}, exitUsage, "missing SERVICE"},
		{[]string{"logs", "demo", "api"}, exitUsage, `deployment "demo" is not tenant/name`},
		{[]string{"exec", "demo/hello", "web"}, exitUsage, "missing COMMAND"},
		{[]string{"exec", "-it", "demo/hello"}, exitUsage, "missing SERVICE"},
		{[]string{"scale", "demo/hello", "web", "many"}, exitUsage, `REPLICAS "many" is not a number`},
		{[]string{"restart"}, exitUsage, "missing TENANT/NAME"},
		{[]string{"jobs", "seven"}, exitUsage, `JOB-ID "seven" is not a job id`},
		{[]string{"status", "a/b", "c/d"}, exitUsage, `unexpected argument "c/d"`},
	}
	for _, tc := range cases {
		code, out, errOut := run(tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("swarmctl %v: exit %d, stderr %q; want exit %d and %q", tc.args, code, errOut, tc.code, tc.want)
		}
		if code == exitUsage {
			// What was wrong, then the synopsis, all on stderr.
			if !strings.HasPrefix(errOut, "Error: ") || !strings.Contains(errOut, "\nUsage: swarmctl ") || out != "" {
				t.Errorf("swarmctl %v: a usage error prints the error and the synopsis on stderr only; stdout %q, stderr %q", tc.args, out, errOut)
			}
		}
	}
}

// TestHelp prints a command's help on stdout and exits 0, wherever -h is.
func TestHelp(t *testing.T) {
	t.Parallel()
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"-h"}, "Usage: swarmctl <command>"},
		{[]string{"help"}, "Commands:"},
		{[]string{"help", "logs"}, "Usage: swarmctl logs [flags] TENANT/NAME SERVICE"},
		{[]string{"apply", "-h"}, "-auto-approve"},
		{[]string{"apply", "dir", "-h"}, "Usage: swarmctl apply [flags] [DIR]"},
		{[]string{"logs", "demo/hello", "api", "--help"}, "-tail"},
		{[]string{"exec", "-h"}, "[--] COMMAND [ARG...]"},
		{[]string{"plugins", "-h"}, "Usage: swarmctl plugins <list|lock|install|mirror>"},
		{[]string{"version", "-h"}, "-json"},
	}
	for _, tc := range cases {
		code, out, errOut := run(tc.args...)
		if code != exitOK || !strings.Contains(out, tc.want) || errOut != "" {
			t.Errorf("swarmctl %v: exit %d, stdout %q, stderr %q; want exit 0 and %q on stdout", tc.args, code, out, errOut, tc.want)
		}
	}
}

// TestParse reads command lines as people type them: flags before, between
// and after the arguments, "--" ending the flags, and everything from an
// exec command's first word on belonging to that command.
func TestParse(t *testing.T) {
	t.Parallel()
	type result struct {
		Pos         []string
		Follow      bool
		Tail        int
		Env         string
		Vars        []string
		Approve, IT bool
	}
	commands := map[string]func(e env) (*flags, *result, []string){
		"apply": func(e env) (*flags, *result, []string) {
			r := &result{}
			fs := newFlags(e, "apply", "apply [flags] [DIR]")
			fs.BoolVar(&r.Approve, "auto-approve", false, "")
			fs.Var((*stringList)(&r.Vars), "var", "")
			return fs, r, []string{"[DIR]"}
		},
		"logs": func(e env) (*flags, *result, []string) {
			r := &result{}
			fs := newFlags(e, "logs", "logs [flags] TENANT/NAME SERVICE")
			fs.BoolVar(&r.Follow, "f", false, "")
			fs.IntVar(&r.Tail, "tail", -1, "")
			fs.StringVar(&r.Env, "env", "", "")
			return fs, r, []string{"TENANT/NAME", "SERVICE"}
		},
		"exec": func(e env) (*flags, *result, []string) {
			r := &result{}
			fs := newFlags(e, "exec", "exec [flags] TENANT/NAME SERVICE [--] COMMAND [ARG...]")
			fs.BoolVar(&r.IT, "it", false, "")
			fs.StringVar(&r.Env, "env", "", "")
			return fs, r, []string{"TENANT/NAME", "SERVICE", "COMMAND..."}
		},
	}
	cases := []struct {
		command string
		args    []string
		want    result
	}{
		{"apply", []string{"dir", "-auto-approve"}, result{Pos: []string{"dir"}, Approve: true}},
		{"apply", []string{"-auto-approve", "dir"}, result{Pos: []string{"dir"}, Approve: true}},
		{"apply", []string{"dir", "-var", "a=1", "--var=b=2"}, result{Pos: []string{"dir"}, Vars: []string{"a=1", "b=2"}}},
		{"apply", []string{"-var", "--", "dir"}, result{Pos: []string{"dir"}, Vars: []string{"--"}}}, // a flag's value is never the end of flags
		{"apply", []string{"--", "-dir-with-a-dash"}, result{Pos: []string{"-dir-with-a-dash"}}},
		{"apply", nil, result{}},
		{"logs", []string{"demo/hello", "api", "-f"}, result{Pos: []string{"demo/hello", "api"}, Follow: true, Tail: -1}},
		{"logs", []string{"demo/hello", "-tail=5", "api"}, result{Pos: []string{"demo/hello", "api"}, Tail: 5}},
		{"logs", []string{"-env", "prod", "demo/hello", "api", "-tail", "5", "-f"}, result{Pos: []string{"demo/hello", "api"}, Env: "prod", Tail: 5, Follow: true}},
		{"logs", []string{"demo/hello", "--", "-api"}, result{Pos: []string{"demo/hello", "-api"}, Tail: -1}},
		{"exec", []string{"demo/hello", "web", "ls", "-l"}, result{Pos: []string{"demo/hello", "web", "ls", "-l"}}},
		{"exec", []string{"demo/hello", "-it", "web", "sh"}, result{Pos: []string{"demo/hello", "web", "sh"}, IT: true}},
		{"exec", []string{"demo/hello", "web", "sh", "-it"}, result{Pos: []string{"demo/hello", "web", "sh", "-it"}}},
		{"exec", []string{"-it", "demo/hello", "web", "--", "ls", "-l", "--", "x"}, result{Pos: []string{"demo/hello", "web", "ls", "-l", "--", "x"}, IT: true}},
		{"exec", []string{"demo/hello", "web", "--", "-x"}, result{Pos: []string{"demo/hello", "web", "-x"}}},
		{"exec", []string{"-env", "prod", "demo/hello", "web", "env", "-env", "x"}, result{Pos: []string{"demo/hello", "web", "env", "-env", "x"}, Env: "prod"}},
	}
	for _, tc := range cases {
		var stdout, stderr bytes.Buffer
		fs, got, params := commands[tc.command](env{stdout: &stdout, stderr: &stderr})
		pos, code, ok := fs.parse(tc.args, params...)
		got.Pos = pos
		if !ok {
			t.Errorf("%s %q: exit %d, stderr %s", tc.command, tc.args, code, stderr.String())
			continue
		}
		if diff := cmp.Diff(tc.want, *got); diff != "" {
			t.Errorf("%s %q (-want +got):\n%s", tc.command, tc.args, diff)
		}
	}
}

// TestFlagsAfterArguments runs commands with their flags after the
// arguments: they get past parsing to their work.
func TestFlagsAfterArguments(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	messy := filepath.Join(dir, "main.hcl")
	if err := os.WriteFile(messy, []byte("variable \"x\" {\n      default = 1\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := run("fmt", dir, "-check", "-diff")
	if code != exitFmtCheck || !strings.Contains(out, messy) || !strings.Contains(out, "(formatted)") {
		t.Errorf("fmt DIR -check -diff: exit %d, stdout %q, stderr %q; want exit %d naming the file with a diff", code, out, errOut, exitFmtCheck)
	}
	// Without a token, apply fails at the controller, past its flags.
	code, _, errOut = run("apply", dir, "-auto-approve")
	if code != exitError || strings.Contains(errOut, "Usage:") {
		t.Errorf("apply DIR -auto-approve: exit %d, stderr %q; want it past parsing", code, errOut)
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
