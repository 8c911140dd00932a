package e2e

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alphaswarm/controller/host/internal/testbin"
)

// fakeAzure is the Azure plugin's fake ARM and Entra ID, run as a process
// of its own.
type fakeAzure struct {
	url string
	ca  string // PEM of the certificate it presents
}

// startFakeAzure runs the fake with a service principal whose client
// secret is secret, and one managed environment.
func startFakeAzure(t *testing.T, secret string) *fakeAzure {
	t.Helper()
	f := startFakeCloud(t, testbin.FakeAzure, "-client-secret", secret, "-resource-group", "rg-e2e", "-environment", "cae-e2e")
	url := f.announced("listening on ")
	ca, err := os.ReadFile(f.announced("ca_file "))
	if err != nil {
		t.Fatal(err)
	}
	return &fakeAzure{url: url, ca: string(ca)}
}

// apps lists the names of the apps the fake holds, through its read-only
// inspection endpoint.
func (f *fakeAzure) apps(t *testing.T) []string {
	t.Helper()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM([]byte(f.ca)) {
		t.Fatalf("the fake's CA is no PEM certificate:\n%s", f.ca)
	}
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	resp, err := c.Get(f.url + "/fakearm/apps")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Apps []string `json:"apps"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("decode the fake's apps: %v", err)
	}
	return body.Apps
}

// azureStatus is what the test reads of `swarmctl status -json`.
type azureStatus struct {
	Status struct {
		Services []struct {
			Name     string        `json:"name"`
			Health   string        `json:"health"`
			Replicas []replicaView `json:"replicas"`
		} `json:"services"`
	} `json:"status"`
}

type replicaView struct {
	ID       string `json:"id"`
	Restarts int    `json:"restarts"`
}

// TestAzureEndToEnd registers an azure backend as an operator does,
// pointed at the fake ARM and Entra ID in a process of its own: the client
// secret by reference through the host's secret store, the fake's
// certificate authority as the backend's ca_certificate (the plugin gets no
// SSL_CERT_FILE). A tenant plans, applies, scales, reads logs, execs (and
// is told that Azure gives no exit status), restarts and destroys a
// deployment through the CLI, the host and the plugin, and
// nothing is left in the fake afterwards.
func TestAzureEndToEnd(t *testing.T) {
	tmp := t.TempDir()
	const secret = "e2e-client-secret-5f1c"
	fake := startFakeAzure(t, secret)
	azureDir := filepath.Join(t.TempDir(), "azure-plugins")
	if err := testbin.Build(testbin.AzurePlugin, filepath.Join(azureDir, "swarm-backend-azure")); err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(t.TempDir(), "host.hcl")
	src := fmt.Sprintf(`backend "azure" "local" {
  config {
    subscription_id = "11111111-2222-3333-4444-555555555555"
    resource_group  = "rg-e2e"
    location        = "westeurope"
    environment     = "cae-e2e"
    tenant_id       = "66666666-7777-8888-9999-000000000000"
    client_id       = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
    client_secret   = credential("azure/e2e")
    endpoint        = %q
    authority_host  = %q
    poll_interval   = "100ms"
    ca_certificate  = <<EOT
%sEOT
  }
  grant {
    tenants      = ["acme"]
    environments = ["*"]
  }
}
`, fake.url, fake.url+"/", fake.ca)
	if err := os.WriteFile(config, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	bin, err := buildDevBin()
	if err != nil {
		t.Fatal(err)
	}
	pluginDirs := filepath.Join(bin, "plugins") + string(os.PathListSeparator) + azureDir
	d := launchDev(t, filepath.Join(bin, "swarmctl"), tmp, []string{"-config", config},
		"ALPHASWARM_SECRET_AZURE_E2E="+secret, "ALPHASWARM_PLUGIN_DIR="+pluginDirs)
	d.waitReady(t)
	acme := d.as(t, "acme", "all")
	t.Setenv("ALPHASWARM_CONTROLLER_URL", d.url)
	t.Setenv("ALPHASWARM_TOKEN", acme.token)
	dir := writeTopology(t, `
backend "azure" "local" {}

deployment "shop" {
  tenant      = "acme"
  environment = "prod"
  backend     = backend.azure.local

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
	run := d.runner(t)
	// status polls until the api service satisfies ok.
	status := func(what string, ok func(api []replicaView) bool) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for {
			out := run("status", "-json", "acme/shop")
			var st azureStatus
			if err := json.Unmarshal([]byte(out), &st); err != nil {
				t.Fatalf("status -json: %v\n%s", err, out)
			}
			for _, s := range st.Status.Services {
				if s.Name == "api" && ok(s.Replicas) {
					return
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("api is not %s:\n%s", what, out)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	if out := run("plan", dir); !strings.Contains(out, "approximated") || !strings.Contains(out, "DB_URL") {
		t.Errorf("plan does not say what Container Apps approximates:\n%s", out)
	}
	run("apply", "-auto-approve", dir)
	if apps := fake.apps(t); len(apps) != 2 {
		t.Fatalf("after apply the fake holds apps %v, want api and db", apps)
	}
	run("scale", "acme/shop", "api", "3")
	status("running 3 replicas after scale", func(rs []replicaView) bool {
		return len(rs) == 3
	})
	if out := run("logs", "acme/shop", "api"); !strings.Contains(out, "replica ") {
		t.Errorf("logs of api lack the replicas' lines:\n%s", out)
	}
	code, out, errOut := swarmctl(t, "exec", "acme/shop", "api", "echo", "hello", "from", "azure")
	if code != 0 || out != "hello from azure\n" || !strings.Contains(errOut, "exit status is unknown") {
		t.Errorf("exec echo: exit %d, stdout %q, stderr %q; want exit 0, the echo, and a notice that the exit status is unknown\nserver log:\n%s",
			code, out, errOut, d.log)
	}
	// A command the endpoint cannot carry is refused with its reason, not
	// hidden behind an internal error.
	if code, _, errOut := swarmctl(t, "exec", "acme/shop", "api", "sh", "-c", "exit 3"); code == 0 || !strings.Contains(errOut, "holds whitespace") {
		t.Errorf("exec sh -c 'exit 3': exit %d, stderr %q; want a failure naming the whitespace", code, errOut)
	}
	run("restart", "acme/shop")
	status("restarted", func(rs []replicaView) bool {
		for _, r := range rs {
			if r.Restarts < 1 {
				return false
			}
		}
		return len(rs) == 3
	})
	run("destroy", "-auto-approve", "acme/shop")
	if code, out, errOut := swarmctl(t, "status", "-json", "acme/shop"); code == 0 || !strings.Contains(errOut, "not found") {
		t.Errorf("status after destroy: exit %d, want the deployment not found\n%s%s", code, out, errOut)
	}
	if apps := fake.apps(t); len(apps) != 0 {
		t.Errorf("after destroy the fake still holds apps %v", apps)
	}
	if strings.Contains(d.log.String(), secret) {
		t.Error("the client secret appears in the host's log")
	}
}
