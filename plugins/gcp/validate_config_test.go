package gcp_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"strings"
	"testing"

	"github.com/alphaswarm/controller/sdk"
	"github.com/alphaswarm/controller/sdk/backendtest"
	"github.com/alphaswarm/controller/sdk/pluginhost"
)

// launchUnconfigured starts the plugin binary with an empty environment,
// as the host does for offline checks.
func launchUnconfigured(t *testing.T) *pluginhost.Client {
	t.Helper()
	c, err := pluginhost.Launch(context.Background(), pluginhost.LaunchConfig{Path: backendtest.Binary(t, pluginPackage)})
	if err != nil {
		t.Fatalf("launch: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

func configJSON(v map[string]any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

// fakeKey is a service account key as Google issues them, with a private
// key made for the tests.
var fakeKey = func() string {
	k, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		panic(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	key, _ := json.Marshal(map[string]string{
		"type": "service_account", "project_id": "alphaswarm-test", "private_key_id": "k1",
		"private_key":  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email": "deployer@alphaswarm-test.iam.gserviceaccount.com", "client_id": "1",
	})
	return string(key)
}()

// TestValidateConfigSharesConfiguresChecks checks configurations offline,
// on plugin processes that are never configured and reach no API: each bad
// one is refused at the attribute where Configure refuses it, and a value
// unknown (a credential not resolved yet) is not checked.
func TestValidateConfigSharesConfiguresChecks(t *testing.T) {
	t.Parallel()
	base := func(extra map[string]any) json.RawMessage {
		c := map[string]any{"project": "alphaswarm-test", "region": "europe-west1", "credentials": fakeKey}
		for k, v := range extra {
			c[k] = v
		}
		return configJSON(c)
	}
	backendtest.CheckConfigs(t, launchUnconfigured, []backendtest.ConfigCase{
		{Name: "a service account key", Config: base(nil)},
		{Name: "everything set", Config: base(map[string]any{"service_account": "runner@alphaswarm-test.iam.gserviceaccount.com",
			"ingress": "internal", "name_prefix": "prod", "operation_timeout": "15m"})},
		{Name: "a loopback test endpoint needs no key", Config: base(map[string]any{"credentials": "", "endpoint": "127.0.0.1:9999"})},
		{Name: "an unknown key", Config: base(map[string]any{"credentials": "(credential)"}), Unknown: sdk.Unknown{"credentials"}},
		{Name: "no key", Config: base(map[string]any{"credentials": ""}), ErrorPath: "credentials"},
		{Name: "a key that is not JSON", Config: base(map[string]any{"credentials": "-----BEGIN PRIVATE KEY-----"}), ErrorPath: "credentials"},
		{Name: "a key whose private key is not one", Config: base(map[string]any{"credentials": `{"type": "service_account", "client_email": "a@b.iam.gserviceaccount.com", "private_key": "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n"}`}), ErrorPath: "credentials"},
		{Name: "an external account that runs a program", Config: base(map[string]any{"credentials": `{"type": "external_account", "audience": "a", "credential_source": {"executable": {"command": "/bin/true"}}}`}), ErrorPath: "credentials"},
		{Name: "an external account that reads a file", Config: base(map[string]any{"credentials": `{"type": "external_account", "audience": "a", "credential_source": {"file": "/var/run/token"}}`}), ErrorPath: "credentials"},
		{Name: "an external account from a URL", Config: base(map[string]any{"credentials": `{"type": "external_account", "audience": "//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/q", "subject_token_type": "urn:ietf:params:oauth:token-type:jwt", "token_url": "https://sts.googleapis.com/v1/token", "credential_source": {"url": "http://127.0.0.1:1/token"}}`})},
		{Name: "an external account from AWS", Config: base(map[string]any{"credentials": `{"type": "external_account", "audience": "a", "credential_source": {"environment_id": "aws1", "region_url": "http://127.0.0.1:1/zone"}}`})},
		{Name: "impersonation", Config: base(map[string]any{"credentials": `{"type": "impersonated_service_account", "source_credentials": {}}`}), ErrorPath: "credentials"},
		{Name: "a key with a loopback endpoint", Config: base(map[string]any{"endpoint": "localhost:9999"}), ErrorPath: "credentials"},
		{Name: "a bad project", Config: base(map[string]any{"project": "My Project"}), ErrorPath: "project"},
		{Name: "a bad region", Config: base(map[string]any{"region": "europe"}), ErrorPath: "region"},
		{Name: "a bad ingress", Config: base(map[string]any{"ingress": "everyone"}), ErrorPath: "ingress"},
		{Name: "a bad prefix", Config: base(map[string]any{"name_prefix": "Prod-1"}), ErrorPath: "name_prefix"},
		{Name: "a bad service account", Config: base(map[string]any{"service_account": "runner"}), ErrorPath: "service_account"},
		{Name: "tenant service accounts", Config: base(map[string]any{"tenant_service_accounts": map[string]any{
			"alpha": "alpha-runner@alphaswarm-test.iam.gserviceaccount.com", "beta": "beta-runner@alphaswarm-test.iam.gserviceaccount.com"}})},
		{Name: "service_account and tenant_service_accounts", Config: base(map[string]any{"service_account": "runner@alphaswarm-test.iam.gserviceaccount.com",
			"tenant_service_accounts": map[string]any{"alpha": "alpha-runner@alphaswarm-test.iam.gserviceaccount.com"}}), ErrorPath: "tenant_service_accounts"},
		{Name: "an unknown service_account and tenant_service_accounts", Config: base(map[string]any{"service_account": "(credential)",
			"tenant_service_accounts": map[string]any{"alpha": "alpha-runner@alphaswarm-test.iam.gserviceaccount.com"}}),
			Unknown: sdk.Unknown{"service_account"}, ErrorPath: "tenant_service_accounts"},
		{Name: "a tenant's bad service account", Config: base(map[string]any{"tenant_service_accounts": map[string]any{"alpha": "alpha-runner"}}),
			ErrorPath: "tenant_service_accounts.alpha"},
		{Name: "an empty tenant", Config: base(map[string]any{"tenant_service_accounts": map[string]any{"": "alpha-runner@alphaswarm-test.iam.gserviceaccount.com"}}),
			ErrorPath: "tenant_service_accounts"},
		{Name: "a tenant too long", Config: base(map[string]any{"tenant_service_accounts": map[string]any{strings.Repeat("a", 64): "alpha-runner@alphaswarm-test.iam.gserviceaccount.com"}}),
			ErrorPath: "tenant_service_accounts"},
		{Name: "a bad timeout", Config: base(map[string]any{"operation_timeout": "-1m"}), ErrorPath: "operation_timeout"},
		{Name: "an endpoint that is not host:port", Config: base(map[string]any{"endpoint": "https://run.example"}), ErrorPath: "endpoint"},
		{Name: "a private endpoint with a key", Config: base(map[string]any{"endpoint": "run-private.example:443"})},
		{Name: "application default credentials", Config: base(map[string]any{"credentials": "", "use_default_credentials": true})},
		{Name: "default credentials and a key", Config: base(map[string]any{"use_default_credentials": true}), ErrorPath: "use_default_credentials"},
		{Name: "default credentials and an unknown key", Config: base(map[string]any{"use_default_credentials": true, "credentials": "(credential)"}),
			Unknown: sdk.Unknown{"credentials"}, ErrorPath: "use_default_credentials"},
	})
}
