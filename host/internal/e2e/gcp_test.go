package e2e

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alphaswarm/controller/host/internal/testbin"
)

// startFakeGCP runs the GCP plugin's fake Google Cloud as a process of its
// own and returns its loopback address.
func startFakeGCP(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "fakegcp")
	if err := testbin.Build(testbin.FakeGCP, bin); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stdin.Close(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
	if err != nil || !ok {
		t.Fatalf("fakegcp said %q: %v", line, err)
	}
	return addr
}

// TestGCPEndToEnd registers a gcp backend as an operator does, pointed at
// the fake Google Cloud, and has a tenant apply, scale, read the logs of
// and destroy a deployment through the host, the CLI and the plugin.
func TestGCPEndToEnd(t *testing.T) {
	tmp := t.TempDir()
	addr := startFakeGCP(t)
	config := filepath.Join(t.TempDir(), "host.hcl")
	src := fmt.Sprintf(`backend "gcp" "local" {
  config {
    project  = "alphaswarm-e2e"
    region   = "europe-west1"
    endpoint = %q
  }
  grant {
    tenants      = ["acme"]
    environments = ["*"]
  }
}
`, addr)
	if err := os.WriteFile(config, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	bin, err := buildDevBin()
	if err != nil {
		t.Fatal(err)
	}
	d := launchDev(t, filepath.Join(bin, "swarmctl"), tmp, []string{"-config", config})
	d.waitReady(t)
	acme := d.as(t, "acme", "all")
	t.Setenv("ALPHASWARM_CONTROLLER_URL", d.url)
	t.Setenv("ALPHASWARM_TOKEN", acme.token)
	dir := writeTopology(t, `
backend "gcp" "local" {}

deployment "shop" {
  tenant      = "acme"
  environment = "prod"
  backend     = backend.gcp.local

  service "db" {
    image = "registry.example/db:1"
    port "http" {
      container = 8080
    }
  }

  service "api" {
    image      = "registry.example/api:1"
    depends_on = [service.db]
    port "http" {
      container = 8080
    }
  }
}
`)
	run := func(args ...string) string {
		t.Helper()
		code, out, errOut := swarmctl(t, args...)
		if code != 0 {
			t.Fatalf("swarmctl %s: exit %d\n%s%s\n%s", strings.Join(args, " "), code, out, errOut, d.log)
		}
		return out + errOut
	}
	if out := run("plan", dir); !strings.Contains(out, "approximated") || !strings.Contains(out, "DB_URL") {
		t.Errorf("plan does not say what Cloud Run approximates:\n%s", out)
	}
	run("apply", "-auto-approve", dir)
	run("scale", "acme/shop", "api", "3")
	deadline := time.Now().Add(30 * time.Second)
	for {
		out := run("status", "-json", "acme/shop")
		if strings.Count(out, `"id": "as-acme-prod-shop-api-`) == 3 || strings.Count(out, `"id":"as-acme-prod-shop-api-`) == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("api does not run 3 instances after scale:\n%s", out)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if out := run("logs", "acme/shop", "api"); !strings.Contains(out, "listening on :8080") {
		t.Errorf("logs of api lack the start line:\n%s", out)
	}
	run("destroy", "-auto-approve", "acme/shop")
	if code, out, errOut := swarmctl(t, "status", "-json", "acme/shop"); code == 0 || !strings.Contains(errOut, "not found") {
		t.Errorf("status after destroy: exit %d, want the deployment not found\n%s%s", code, out, errOut)
	}
}
