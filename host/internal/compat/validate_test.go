package compat

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/alphaswarm/controller/host/internal/backends"
	"github.com/alphaswarm/controller/host/internal/planner"
	"github.com/alphaswarm/controller/host/internal/pluginmgr"
	"github.com/alphaswarm/controller/host/internal/testbin"
	"github.com/alphaswarm/controller/host/internal/topology"
	"github.com/alphaswarm/controller/sdk/pluginhost"
)

// TestValidateWithAPluginThatPredatesValidateConfig builds the memory
// example from baseCommit, before protocol 1 had ValidateConfig, and has
// this tree's host check a topology and an operator's configuration with
// it, offline: the backend block gets the schema's check and one warning
// that the plugin's own checks were skipped; a value only the plugin would
// refuse passes, as it waits for plan. The memory example of this tree,
// the control, refuses it at its line.
func TestValidateWithAPluginThatPredatesValidateConfig(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	requireCommit(t, root, baseCommit)
	work := t.TempDir()
	oldTree := filepath.Join(work, "old")
	extract(t, root, baseCommit, oldTree)
	dirs := map[string]string{"old": filepath.Join(work, "plugins-old"), "new": filepath.Join(work, "plugins-new")}
	if err := goBuild(oldTree, "", dirs["old"], "./examples/backend-memory"); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(dirs["old"], "backend-memory"), filepath.Join(dirs["old"], "swarm-backend-memory")); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dirs["new"], 0o755); err != nil {
		t.Fatal(err)
	}
	if err := testbin.Build(testbin.MemoryPlugin, filepath.Join(dirs["new"], "swarm-backend-memory")); err != nil {
		t.Fatal(err)
	}

	topo := t.TempDir()
	src := "backend \"memory\" \"sim\" {\n  latency = \"soon\"\n}\n\ndeployment \"shop\" {\n  tenant      = \"acme\"\n  environment = \"dev\"\n  backend     = backend.memory.sim\n\n  service \"web\" {\n    image = \"web:1\"\n  }\n}\n"
	if err := os.WriteFile(filepath.Join(topo, "main.hcl"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	operator := "backend \"memory\" \"sim\" {\n  config {\n    latency = \"soon\"\n  }\n}\n"

	for _, tc := range []struct {
		plugin  string
		summary string // of the one diagnostic of each check
		sev     hcl.DiagnosticSeverity
		line    int
	}{
		{"old", pluginhost.SkippedSummary, hcl.DiagWarning, 1},
		{"new", "Invalid backend configuration", hcl.DiagError, 2},
	} {
		t.Run(tc.plugin+"_plugin", func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			m := pluginmgr.New(pluginmgr.Config{PluginDirs: []string{dirs[tc.plugin]}, StartTimeout: 10 * time.Second})
			defer m.Close()

			_, diags := planner.CheckOffline(ctx, topo, topology.Values{}, m)
			if len(diags) != 1 || diags[0].Severity != tc.sev || diags[0].Summary != tc.summary || diags[0].Subject == nil || diags[0].Subject.Start.Line != tc.line {
				t.Errorf("validate: %v\nwant one diagnostic %q at line %d", diags, tc.summary, tc.line)
			}
			if tc.plugin == "old" && !strings.Contains(diags[0].Detail, "checked against its schema only") {
				t.Errorf("the warning says %q", diags[0].Detail)
			}

			r := backends.New(nil)
			if d := r.Parse([]byte(operator), "host.hcl"); d.HasErrors() {
				t.Fatal(d)
			}
			diags = r.Bind(ctx, m)
			if len(diags) != 1 || diags[0].Severity != tc.sev || diags[0].Summary != tc.summary {
				t.Errorf("bind: %v\nwant one diagnostic %q", diags, tc.summary)
			}
			if launches, _ := m.Stats(); launches != 2 {
				t.Errorf("%d plugin launches, want one per check", launches)
			}
		})
	}
}
