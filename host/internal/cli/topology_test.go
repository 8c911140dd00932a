package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func topologyDir(t *testing.T, src string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

const memoryTopology = `backend "memory" "sim" {
  latency = "LATENCY"
}

deployment "shop" {
  tenant      = "acme"
  environment = "dev"
  backend     = backend.memory.sim

  service "web" {
    image    = "web:1"
    replicas = 2
  }
}
`

func TestValidateWithPlugin(t *testing.T) {
	t.Parallel()
	dir := topologyDir(t, strings.Replace(memoryTopology, "LATENCY", "1ms", 1))
	code, out, errOut := run("validate", "-plugin-dir", pluginDir, "-lock-file", filepath.Join(dir, "none.hcl"), dir)
	if code != 0 || !strings.Contains(out, "Success!") {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
}

// TestValidatePointsPluginErrorsAtTheSource: the memory plugin rejects
// latency = "soon" in Configure; the diagnostic must point at line 2.
func TestValidatePointsPluginErrorsAtTheSource(t *testing.T) {
	t.Parallel()
	dir := topologyDir(t, strings.Replace(memoryTopology, "LATENCY", "soon", 1))
	code, out, _ := run("validate", "-json", "-plugin-dir", pluginDir, "-lock-file", filepath.Join(dir, "none.hcl"), dir)
	var result struct {
		Valid       bool             `json:"valid"`
		Diagnostics []jsonDiagnostic `json:"diagnostics"`
	}
	if err := json.Unmarshal([]byte(out), &result); err != nil {
		t.Fatalf("decode %q: %v", out, err)
	}
	if code != exitError || result.Valid || len(result.Diagnostics) != 1 {
		t.Fatalf("exit %d, %+v", code, result)
	}
	d := result.Diagnostics[0]
	if d.Line != 2 || !strings.Contains(d.Detail, "latency") || !strings.Contains(d.Snippet, `latency = "soon"`) {
		t.Errorf("diagnostic %+v, want line 2 naming latency with its snippet", d)
	}
}

func TestValidateReportsSchemaErrorsWithSnippet(t *testing.T) {
	t.Parallel()
	dir := topologyDir(t, strings.Replace(memoryTopology, `latency = "LATENCY"`, `latencee = "1ms"`, 1))
	code, _, errOut := run("validate", "-plugin-dir", pluginDir, "-lock-file", filepath.Join(dir, "none.hcl"), dir)
	for _, want := range []string{"Unsupported argument", "main.hcl line 2", `latencee = "1ms"`} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr does not show %q:\n%s", want, errOut)
		}
	}
	if code != exitError {
		t.Errorf("exit %d, want %d", code, exitError)
	}
}

func TestPlanWithMemoryBackend(t *testing.T) {
	t.Parallel()
	dir := topologyDir(t, strings.Replace(memoryTopology, "LATENCY", "0s", 1))
	code, out, errOut := run("plan", "-local", "-plugin-dir", pluginDir, "-lock-file", filepath.Join(dir, "none.hcl"), dir)
	if code != 0 || !strings.Contains(out, "+ service web (create)") || !strings.Contains(out, "Plan: 1 to create, 0 to update, 0 to delete.") {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
}

func TestFmt(t *testing.T) {
	t.Parallel()
	ugly := "deployment \"shop\" {\ntenant = \"acme\"\n    environment=\"dev\"\n}\n"
	dir := topologyDir(t, ugly)
	file := filepath.Join(dir, "main.hcl")
	code, out, _ := run("fmt", "-check", "-diff", dir)
	if code != exitFmtCheck || !strings.Contains(out, file) || !strings.Contains(out, `+  environment = "dev"`) {
		t.Fatalf("fmt -check -diff: exit %d\n%s", code, out)
	}
	if b, _ := os.ReadFile(file); string(b) != ugly {
		t.Fatalf("fmt -check changed the file")
	}
	if code, _, _ := run("fmt", dir); code != 0 {
		t.Fatalf("fmt: exit %d", code)
	}
	if code, out, _ := run("fmt", "-check", dir); code != 0 || out != "" {
		t.Errorf("fmt -check after fmt: exit %d, %q", code, out)
	}
	broken := topologyDir(t, "deployment \"shop\" {\n")
	if code, _, errOut := run("fmt", broken); code != exitError || !strings.Contains(errOut, "Unclosed configuration block") {
		t.Errorf("fmt of a file that does not parse: exit %d\n%s", code, errOut)
	}
}

func TestExamplesValidateAndAreFormatted(t *testing.T) {
	t.Parallel()
	dirs, _ := filepath.Glob("../../../examples/topologies/*")
	for _, dir := range dirs {
		if code, out, errOut := run("validate", "-plugin-dir", pluginDir, "-lock-file", filepath.Join(t.TempDir(), "none.hcl"), dir); code != 0 {
			t.Errorf("validate %s: exit %d\n%s%s", dir, code, out, errOut)
		}
	}
	if code, out, _ := run("fmt", "-check", "-recursive", "../../../examples/topologies"); code != 0 {
		t.Errorf("fmt -check on the examples: exit %d\n%s", code, out)
	}
}
