package azure_test

import (
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/sdk/backendtest"
)

// accHowTo says how to run the live acceptance test.
const accHowTo = `the live acceptance test runs the conformance kit against a real subscription; to run it:
  ALPHASWARM_ACC_AZURE=1 \
  ALPHASWARM_ACC_AZURE_SUBSCRIPTION_ID=... ALPHASWARM_ACC_AZURE_RESOURCE_GROUP=... \
  ALPHASWARM_ACC_AZURE_LOCATION=... ALPHASWARM_ACC_AZURE_ENVIRONMENT=<existing managed environment> \
  ALPHASWARM_ACC_AZURE_TENANT_ID=... ALPHASWARM_ACC_AZURE_CLIENT_ID=... ALPHASWARM_ACC_AZURE_CLIENT_SECRET=... \
  make test-acc-azure
(the service principal needs Container Apps Contributor on the resource group; see docs/azure.md)`

// TestAcceptance runs the conformance kit against Azure itself, with the
// plugin binary and real credentials. Everything it creates is destroyed
// by the kit's cleanup.
func TestAcceptance(t *testing.T) {
	if os.Getenv("ALPHASWARM_ACC_AZURE") != "1" {
		t.Skip(accHowTo)
	}
	env := func(name string) string {
		v := os.Getenv("ALPHASWARM_ACC_AZURE_" + name)
		if v == "" {
			t.Fatalf("ALPHASWARM_ACC_AZURE=1 but ALPHASWARM_ACC_AZURE_%s is not set\n%s", name, accHowTo)
		}
		return v
	}
	cfg := map[string]any{
		"subscription_id": env("SUBSCRIPTION_ID"), "resource_group": env("RESOURCE_GROUP"), "location": env("LOCATION"),
		"environment": env("ENVIRONMENT"), "tenant_id": env("TENANT_ID"), "client_id": env("CLIENT_ID"),
		"client_secret": env("CLIENT_SECRET"), "name_prefix": "acc",
	}
	raw, _ := json.Marshal(cfg)
	cfg["poll_interval"] = "soon"
	bad, _ := json.Marshal(cfg)
	image := os.Getenv("ALPHASWARM_ACC_AZURE_IMAGE")
	if image == "" {
		image = "mcr.microsoft.com/k8se/quickstart:latest"
	}
	backendtest.Run(t, withExec(backendtest.Harness{
		// The plugin gets only what it needs: the system's roots, no
		// variables of this shell.
		Connect:       backendtest.LaunchPackage(pluginPackage),
		Config:        raw,
		BadConfig:     bad,
		BadConfigPath: "poll_interval",
		Service: func(string) core.ServiceSpec {
			return core.ServiceSpec{Image: image, Ports: []core.Port{{Name: "http", Container: 80, Protocol: core.ProtocolTCP}}}
		},
		Timeout:      15 * time.Minute,
		PollInterval: 10 * time.Second,
		Parallel:     2,
	}))
}
