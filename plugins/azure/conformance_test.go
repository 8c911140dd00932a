package azure_test

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/plugins/azure/internal/fakearm"
	"github.com/alphaswarm/controller/sdk/backendtest"
	"github.com/alphaswarm/controller/sdk/pluginhost"
)

// pluginPackage is the plugin's main package, built by backendtest.
const pluginPackage = "./cmd/swarm-backend-azure"

// The fake's one subscription, resource group, environment and service
// principal.
const (
	subscription = "00000000-0000-0000-0000-0000000000aa"
	group        = "rg-swarm"
	envName      = "cae-swarm"
	location     = "westeurope"
	tenantID     = "00000000-0000-0000-0000-0000000000bb"
	clientID     = "00000000-0000-0000-0000-0000000000cc"
	clientSecret = "fake-client-secret-value"
)

var fake *fakearm.Server

func TestMain(m *testing.M) {
	var err error
	fake, err = fakearm.Start(fakearm.Options{TenantID: tenantID, ClientID: clientID, ClientSecret: clientSecret, LRODelay: 150 * time.Millisecond})
	if err != nil {
		fmt.Fprintln(os.Stderr, "start the fake Azure Resource Manager:", err)
		os.Exit(1)
	}
	fake.AddEnvironment(subscription, group, envName, location)
	// In-process backends of this test binary trust the fake as launched
	// plugins do: through SSL_CERT_FILE, read once, before any TLS.
	os.Setenv("SSL_CERT_FILE", fake.CAFile())
	code := m.Run()
	fake.Close()
	os.Exit(code)
}

// config is a configuration pointed at the fake, with changes applied.
func config(t testing.TB, changes map[string]any) json.RawMessage {
	t.Helper()
	c := map[string]any{
		"subscription_id": subscription, "resource_group": group, "location": location, "environment": envName,
		"tenant_id": tenantID, "client_id": clientID, "client_secret": clientSecret,
		"endpoint": fake.URL(), "authority_host": fake.URL() + "/", "poll_interval": "50ms", "apply_timeout": "30s", "name_prefix": "as",
	}
	for k, v := range changes {
		if v == nil {
			delete(c, k)
			continue
		}
		c[k] = v
	}
	raw, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// launch starts the plugin with the one variable it needs to trust the
// fake's certificate: production code uses the system's roots.
func launch() func(*testing.T) *pluginhost.Client {
	return backendtest.LaunchPackage(pluginPackage, "SSL_CERT_FILE="+fake.CAFile())
}

// launchWith launches a plugin process that trusts the certificate in
// caFile.
func launchWith(t *testing.T, caFile string) *pluginhost.Client {
	t.Helper()
	c := backendtest.LaunchPackage(pluginPackage, "SSL_CERT_FILE="+caFile)(t)
	t.Cleanup(c.Close)
	return c
}

func testService(string) core.ServiceSpec {
	return core.ServiceSpec{
		Image: "registry.example/echo:1",
		Ports: []core.Port{{Name: "http", Container: 8080, Protocol: core.ProtocolTCP}},
	}
}

// TestConformance runs the SDK's conformance kit against the plugin binary
// and the fake.
func TestConformance(t *testing.T) {
	backendtest.Run(t, withExec(backendtest.Harness{
		Connect:       launch(),
		Config:        config(t, nil),
		BadConfig:     config(t, map[string]any{"poll_interval": "soon"}),
		BadConfigPath: "poll_interval",
		Service:       testService,
		Timeout:       30 * time.Second,
		PollInterval:  100 * time.Millisecond,
	}))
}

// withExec sets the kit's exec commands for Container Apps' exec endpoint,
// which never closes a command's stdin but on Ctrl-D in a terminal, takes
// one command line without quoting, and reports no exit status. The image
// must have sh and head.
func withExec(h backendtest.Harness) backendtest.Harness {
	h.ExecCat = []string{"head", "-n", "2"}
	h.ExecExit = func(code int) []string { return []string{"sh", "-c", "exit${IFS}" + strconv.Itoa(code)} }
	h.ExecExitUnknown = true
	return h
}
