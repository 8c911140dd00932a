package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/alphaswarm/controller/host/internal/testbin"
)

// fakeGCP is the GCP plugin's fake Google Cloud, run as a process of its
// own: addr is its loopback gRPC address (the backend's endpoint), inspect
// the URL of its read-only view of what it holds.
type fakeGCP struct {
	addr, inspect string
}

// fakeGCPObject is a service or secret as the fake's inspection shows it.
type fakeGCPObject struct {
	Name     string            `json:"name"`
	Labels   map[string]string `json:"labels"`
	Versions []string          `json:"versions"`
}

// startFakeGCP runs the fake Google Cloud, with the images given failing
// every revision as Cloud Run fails one it cannot pull.
func startFakeGCP(t *testing.T, missingImages ...string) *fakeGCP {
	t.Helper()
	var args []string
	for _, image := range missingImages {
		args = append(args, "-missing-image", image)
	}
	f := startFakeCloud(t, testbin.FakeGCP, args...)
	return &fakeGCP{addr: f.announced("listening on "), inspect: f.announced("inspect on ")}
}

// state reads the services and secrets the fake holds.
func (f *fakeGCP) state(t *testing.T) (services, secrets []fakeGCPObject) {
	t.Helper()
	resp, err := http.Get(f.inspect + "/state")
	if err != nil {
		t.Fatalf("inspect the fake Google Cloud: %v", err)
	}
	defer resp.Body.Close()
	var st struct {
		Services []fakeGCPObject `json:"services"`
		Secrets  []fakeGCPObject `json:"secrets"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("inspect the fake Google Cloud: %s: %v", resp.Status, err)
	}
	return st.Services, st.Secrets
}

// TestGCPEndToEnd registers a gcp backend as an operator does, pointed at
// the fake Google Cloud, and has a tenant apply (with a secret), scale,
// read the logs of and destroy a deployment through the host, the CLI and
// the plugin; then one whose image is missing, which fails with Cloud
// Run's message. After the destroys the fake holds no service and no
// secret.
func TestGCPEndToEnd(t *testing.T) {
	tmp := t.TempDir()
	const missing = "registry.example/missing:1"
	fake := startFakeGCP(t, missing)
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
`, fake.addr)
	if err := os.WriteFile(config, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	bin, err := buildDevBin()
	if err != nil {
		t.Fatal(err)
	}
	d := launchDev(t, filepath.Join(bin, "swarmctl"), tmp, []string{"-config", config}, "ALPHASWARM_TENANT_SECRET_ACME__DB=db-secret-of-acme")
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
    secret_env = { DB_PASSWORD = secret("db") }
    port "http" {
      container = 8080
    }
  }
}
`)
	run := d.runner(t)
	if out := run("plan", dir); !strings.Contains(out, "approximated") || !strings.Contains(out, "DB_URL") || !strings.Contains(out, "roles/run.invoker") ||
		!strings.Contains(out, "tenant_service_accounts") {
		t.Errorf("plan does not say what Cloud Run approximates, and that the backend's tenants share one identity:\n%s", out)
	}
	run("apply", "-auto-approve", dir)
	if services, secrets := fake.state(t); len(services) != 2 || len(secrets) != 1 {
		t.Errorf("after apply the fake holds services %v and secrets %v, want 2 and 1", services, secrets)
	}
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
	if services, secrets := fake.state(t); len(services) != 0 || len(secrets) != 0 {
		t.Errorf("after destroy the fake still holds services %v and secrets %v", services, secrets)
	}

	// A revision Cloud Run cannot start fails the apply job, once (it is
	// not retriable), with Cloud Run's message.
	broken := writeTopology(t, `
backend "gcp" "local" {}

deployment "broken" {
  tenant      = "acme"
  environment = "prod"
  backend     = backend.gcp.local

  service "web" {
    image = "`+missing+`"
    port "http" {
      container = 8080
    }
  }
}
`)
	code, out, errOut := swarmctl(t, "apply", "-auto-approve", broken)
	want := "Image '" + missing + "' not found"
	if code == 0 || !strings.Contains(errOut, "apply failed") || !strings.Contains(errOut, want) {
		t.Fatalf("apply of a missing image: exit %d, want a failed job saying %q\n%s%s\n%s", code, want, out, errOut, d.log)
	}
	m := regexp.MustCompile(`\(job (\d+)\)`).FindStringSubmatch(errOut)
	if m == nil {
		t.Fatalf("the failed apply names no job:\n%s", errOut)
	}
	status, body := acme.call("GET", "/v1/jobs/"+m[1], nil)
	var job struct {
		State    string `json:"state"`
		Attempts int    `json:"attempts"`
		Error    string `json:"error"`
	}
	if err := json.Unmarshal([]byte(body), &job); status != http.StatusOK || err != nil {
		t.Fatalf("GET /v1/jobs/%s: %d %s", m[1], status, body)
	}
	if job.State != "failed" || job.Attempts != 1 || !strings.Contains(job.Error, want) || !strings.Contains(job.Error, "Revision '") {
		t.Errorf("the failed apply's job: %+v, want failed after one attempt with Cloud Run's message", job)
	}
	run("destroy", "-auto-approve", "acme/broken")
	if services, secrets := fake.state(t); len(services) != 0 || len(secrets) != 0 {
		t.Errorf("after destroying the failed deployment the fake still holds services %v and secrets %v", services, secrets)
	}
}
