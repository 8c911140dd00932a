package pluginmgr

import (
	"context"
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/alphaswarm/controller/sdk"
)

// TestLaunchUnconfiguredGetsNoEnvironment launches the memory plugin for
// offline checks from a manager that passes credentials to its instances:
// the process gets none of them, and checks a configuration it was never
// configured with.
func TestLaunchUnconfiguredGetsNoEnvironment(t *testing.T) {
	t.Parallel()
	m := New(Config{PluginDirs: []string{pluginDir}, StartTimeout: 10 * time.Second,
		Env: []string{"KUBECONFIG=/home/op/.kube/config", "AWS_SECRET_ACCESS_KEY=must-not-leak"}})
	t.Cleanup(m.Close)
	p, err := m.Plugin("memory")
	if err != nil {
		t.Fatal(err)
	}
	c, err := m.LaunchUnconfigured(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(c.Pid()) + "/environ")
	if err != nil {
		t.Fatalf("read plugin environment: %v", err)
	}
	for _, kv := range strings.Split(string(raw), "\x00") {
		if strings.HasPrefix(kv, "KUBECONFIG=") || strings.HasPrefix(kv, "AWS_") {
			t.Errorf("an unconfigured plugin's environment holds %q", kv)
		}
	}
	resp, err := c.ValidateConfig(context.Background(), &sdk.ValidateConfigRequest{Instance: "sim", Config: json.RawMessage(`{"latency": "soon"}`)})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Diagnostics) != 1 || resp.Diagnostics[0].Path != "latency" {
		t.Errorf("diagnostics %+v, want one at latency", resp.Diagnostics)
	}
	if m.Instance(p.Name) != nil {
		t.Error("an unconfigured process became an instance")
	}
}
