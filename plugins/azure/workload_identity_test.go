package azure_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/alphaswarm/controller/plugins/azure/internal/fakearm"
	"github.com/alphaswarm/controller/sdk"
	"github.com/alphaswarm/controller/sdk/backendtest"
)

// federatedJWT is a token shaped as a federated identity provider's (a
// Kubernetes service account token), with a marker in its claims.
func federatedJWT(marker string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"RS256","typ":"JWT"}`)) + "." +
		enc([]byte(`{"iss":"https://oidc.example","sub":"system:serviceaccount:swarm:host","aud":"api://AzureADTokenExchange","m":"`+marker+`"}`)) + "." +
		enc([]byte("signature-"+marker))
}

// TestWorkloadIdentity signs in with a federated token (a client
// assertion of type jwt-bearer that the fake's token endpoint accepts for
// the application's federated credential), and fails at federated_token
// with Entra ID's code for a token no federated credential matches,
// without the token in the message.
func TestWorkloadIdentity(t *testing.T) {
	t.Parallel()
	good, other := federatedJWT("good"), federatedJWT("other")
	own, err := fakearm.Start(fakearm.Options{TenantID: tenantID, ClientID: clientID, FederatedToken: good})
	if err != nil {
		t.Fatal(err)
	}
	defer own.Close()
	own.AddEnvironment(subscription, group, envName, location)
	cfg := func(token string) json.RawMessage {
		c := map[string]any{}
		_ = json.Unmarshal(config(t, nil), &c)
		c["endpoint"], c["authority_host"] = own.URL(), own.URL()+"/"
		c["client_secret"], c["federated_token"] = "", token
		raw, _ := json.Marshal(c)
		return raw
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := launchWith(t, own.CAFile()).Configure(ctx, &sdk.ConfigureRequest{Instance: "wi", Config: cfg(good)}); err != nil {
		t.Fatalf("configure with the federated token: %v", err)
	}
	if n := len(own.Calls("/managedEnvironments/")); n == 0 {
		t.Error("configure read no managed environment with the token it got")
	}
	_, err = launchWith(t, own.CAFile()).Configure(ctx, &sdk.ConfigureRequest{Instance: "wi", Config: cfg(other)})
	var invalid *sdk.InvalidConfigError
	if !errors.As(err, &invalid) || invalid.Path != "federated_token" || !strings.Contains(err.Error(), "AADSTS70021") {
		t.Fatalf("configure with a token no federated credential matches: %v, want an InvalidConfigError at federated_token naming AADSTS70021", err)
	}
	if strings.Contains(err.Error(), other) || strings.Contains(err.Error(), "signature-other") {
		t.Errorf("the error shows the token: %v", err)
	}
}

// TestCACertificate configures a plugin process that has no SSL_CERT_FILE:
// it reaches the fake only when the fake's certificate authority is the
// backend's ca_certificate. (The host's end-to-end test reads logs this
// way too: the log streams go through the same trust.)
func TestCACertificate(t *testing.T) {
	t.Parallel()
	ca, err := os.ReadFile(fake.CAFile())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	plain := backendtest.LaunchPackage(pluginPackage)(t)
	defer plain.Close()
	if _, err := plain.Configure(ctx, &sdk.ConfigureRequest{Instance: "ca", Config: config(t, nil)}); err == nil {
		t.Fatal("configure without the fake's CA succeeded: the plugin trusts a certificate it was not given")
	}
	b := backendtest.LaunchPackage(pluginPackage)(t)
	defer b.Close()
	if _, err := b.Configure(ctx, &sdk.ConfigureRequest{Instance: "ca", Config: config(t, map[string]any{"ca_certificate": string(ca)})}); err != nil {
		t.Fatalf("configure with the fake's CA as ca_certificate: %v", err)
	}
}
