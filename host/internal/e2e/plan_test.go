package e2e

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alphaswarm/controller/host/internal/cli"
	"github.com/alphaswarm/controller/host/internal/pluginmgr"
	"github.com/alphaswarm/controller/host/internal/topology"
	"github.com/alphaswarm/controller/sdk"
)

// TestPlanQuickstart plans the compose quickstart on a clean engine (a
// create per service), applies it through the plugin, and plans again
// (no changes), as issue 4 asks.
func TestPlanQuickstart(t *testing.T) {
	src, err := os.ReadFile("../../../examples/topologies/quickstart-compose/main.hcl")
	if err != nil {
		t.Fatal(err)
	}
	prefix := fmt.Sprintf("q%x", rand.Uint32())
	dir := t.TempDir()
	topo := strings.Replace(string(src), `backend "compose" "local" {}`, "backend \"compose\" \"local\" {\n  project_prefix = \""+prefix+"\"\n}", 1)
	topo = strings.Replace(topo, "default     = 18080", fmt.Sprintf("default     = %d", freePort(t)), 1) // make dev may hold 18080
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(topo), 0o644); err != nil {
		t.Fatal(err)
	}
	plan := func() string {
		t.Helper()
		var out, errOut bytes.Buffer
		code := cli.Main([]string{"plan", "-local", "-plugin-dir", pluginDir, "-lock-file", filepath.Join(dir, "none.hcl"), "-var", "tag=e2e-v1", dir}, &out, &errOut)
		if code != 0 {
			t.Fatalf("plan: exit %d\n%s%s", code, out.String(), errOut.String())
		}
		return out.String()
	}
	first := plan()
	for _, want := range []string{"+ service db (create)", "+ service api (create)", "+ service web (create)", "Plan: 3 to create, 0 to update, 0 to delete."} {
		if !strings.Contains(first, want) {
			t.Fatalf("plan on a clean engine does not say %q:\n%s", want, first)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	top, diags := topology.Load(dir, topology.Values{Args: []string{"tag=e2e-v1"}})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	m := pluginmgr.New(pluginmgr.Config{PluginDirs: []string{pluginDir}, StartTimeout: 10 * time.Second})
	t.Cleanup(m.Close) // after the destroy below, which needs the plugin
	p, err := m.Plugin("compose")
	if err != nil {
		t.Fatal(err)
	}
	info, err := m.Describe(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	config, diags := top.Backends[0].DecodeConfig(info.ConfigSchema)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	inst, err := m.Start(ctx, pluginmgr.InstanceConfig{Name: "local", Plugin: "compose", Config: config})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := inst.Client(ctx)
	spec := top.Deployments[0].Spec
	t.Cleanup(func() { c.Destroy(context.Background(), &sdk.DestroyRequest{Deployment: spec.Ref(), RemoveData: true}) })
	if _, err := c.Apply(ctx, &sdk.ApplyRequest{Deployment: spec}, nil); err != nil {
		t.Fatalf("apply: %v", err)
	}

	if second := plan(); !strings.Contains(second, "No changes.") {
		t.Errorf("plan after applying exactly the files is not empty:\n%s", second)
	}
}

// freePort returns a TCP port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
