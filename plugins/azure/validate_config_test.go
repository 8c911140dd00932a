package azure_test

import (
	"encoding/json"
	"maps"
	"testing"

	"github.com/alphaswarm/controller/sdk"
	"github.com/alphaswarm/controller/sdk/backendtest"
)

// TestValidateConfigSharesConfiguresChecks checks configurations offline,
// on plugin processes that are never configured and get no environment:
// each bad one is refused at the attribute where Configure refuses it, and
// an unknown value (a credential not resolved yet) is not checked.
func TestValidateConfigSharesConfiguresChecks(t *testing.T) {
	t.Parallel()
	launch := backendtest.LaunchPackage(pluginPackage)
	base := map[string]any{
		"subscription_id": subscription, "resource_group": group, "location": location, "environment": envName,
		"tenant_id": tenantID, "client_id": clientID, "client_secret": "(credential)",
	}
	with := func(changes map[string]any) json.RawMessage {
		c := maps.Clone(base)
		maps.Copy(c, changes)
		raw, _ := json.Marshal(c)
		return raw
	}
	backendtest.CheckConfigs(t, launch, []backendtest.ConfigCase{
		{Name: "the defaults", Config: with(nil), Unknown: sdk.Unknown{"client_secret"}},
		{Name: "a bad poll interval", Config: with(map[string]any{"poll_interval": "soon"}), ErrorPath: "poll_interval"},
		{Name: "a bad apply timeout", Config: with(map[string]any{"apply_timeout": "0s"}), ErrorPath: "apply_timeout"},
		{Name: "a subscription that is not a GUID", Config: with(map[string]any{"subscription_id": "my-sub/../x"}), ErrorPath: "subscription_id"},
		{Name: "a bad resource group", Config: with(map[string]any{"resource_group": "rg/../other"}), ErrorPath: "resource_group"},
		{Name: "a bad name prefix", Config: with(map[string]any{"name_prefix": "-x"}), ErrorPath: "name_prefix"},
		{Name: "a plain http endpoint", Config: with(map[string]any{"endpoint": "http://management.azure.com"}), ErrorPath: "endpoint"},
		{Name: "an authority with credentials", Config: with(map[string]any{"authority_host": "https://u:p@login.example/"}), ErrorPath: "authority_host"},
		{Name: "no credential", Config: with(map[string]any{"client_secret": ""}), ErrorPath: "client_secret"},
		{Name: "two credentials", Config: with(map[string]any{"client_certificate": "-----BEGIN CERTIFICATE-----"}), ErrorPath: "client_certificate"},
		{Name: "a certificate that is not one", Config: with(map[string]any{"client_secret": "", "client_certificate": "not PEM"}), ErrorPath: "client_certificate"},
		{Name: "an unknown certificate", Config: with(map[string]any{"client_secret": "", "client_certificate": "(credential)"}), Unknown: sdk.Unknown{"client_certificate"}},
		{Name: "a managed identity", Config: with(map[string]any{"client_secret": "", "managed_identity": true, "tenant_id": "", "client_id": ""})},
		{Name: "a managed identity and a secret", Config: with(map[string]any{"managed_identity": true}), ErrorPath: "managed_identity"},
		{Name: "a federated token", Config: with(map[string]any{"client_secret": "", "federated_token": "eyJh.eyJz.c2ln"})},
		{Name: "an unknown federated token", Config: with(map[string]any{"client_secret": "", "federated_token": "(credential)"}), Unknown: sdk.Unknown{"federated_token"}},
		{Name: "a federated token that is not a JWT", Config: with(map[string]any{"client_secret": "", "federated_token": "not a jwt"}), ErrorPath: "federated_token"},
		{Name: "a federated token and a secret", Config: with(map[string]any{"federated_token": "eyJh.eyJz.c2ln"}), ErrorPath: "federated_token"},
		{Name: "a federated token and a managed identity", Config: with(map[string]any{"client_secret": "", "federated_token": "eyJh.eyJz.c2ln", "managed_identity": true}), ErrorPath: "managed_identity"},
		{Name: "a federated token without a tenant", Config: with(map[string]any{"client_secret": "", "federated_token": "eyJh.eyJz.c2ln", "tenant_id": ""}), ErrorPath: "tenant_id"},
		{Name: "a CA that is not PEM", Config: with(map[string]any{"ca_certificate": "not PEM"}), Unknown: sdk.Unknown{"client_secret"}, ErrorPath: "ca_certificate"},
		{Name: "a CA that is a key", Config: with(map[string]any{"ca_certificate": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"}), ErrorPath: "ca_certificate"},
		{Name: "a service principal without a tenant", Config: with(map[string]any{"tenant_id": ""}), Unknown: sdk.Unknown{"client_secret"}, ErrorPath: "tenant_id"},
		{Name: "an environment to create", Config: with(map[string]any{"create_environment": true})},
		{Name: "an environment to create with Log Analytics", Config: with(map[string]any{"create_environment": true,
			"log_analytics_customer_id": laCustomer, "log_analytics_shared_key": laKey})},
		{Name: "an unknown Log Analytics key", Config: with(map[string]any{"create_environment": true,
			"log_analytics_customer_id": laCustomer, "log_analytics_shared_key": "(credential)"}), Unknown: sdk.Unknown{"log_analytics_shared_key"}},
		{Name: "Log Analytics without create_environment", Config: with(map[string]any{
			"log_analytics_customer_id": laCustomer, "log_analytics_shared_key": laKey}), ErrorPath: "log_analytics_customer_id"},
		{Name: "a Log Analytics key alone", Config: with(map[string]any{"create_environment": true, "log_analytics_shared_key": laKey}),
			ErrorPath: "log_analytics_customer_id"},
		{Name: "a Log Analytics customer alone", Config: with(map[string]any{"create_environment": true, "log_analytics_customer_id": laCustomer}),
			ErrorPath: "log_analytics_shared_key"},
		{Name: "a Log Analytics customer that is not a GUID", Config: with(map[string]any{"create_environment": true,
			"log_analytics_customer_id": "workspace-1", "log_analytics_shared_key": laKey}), ErrorPath: "log_analytics_customer_id"},
		{Name: "a Log Analytics key that is not base64", Config: with(map[string]any{"create_environment": true,
			"log_analytics_customer_id": laCustomer, "log_analytics_shared_key": "not base64!"}), ErrorPath: "log_analytics_shared_key"},
		{Name: "an unknown client id", Config: with(map[string]any{"client_id": "(credential)"}), Unknown: sdk.Unknown{"client_id", "client_secret"}},
	})
}
