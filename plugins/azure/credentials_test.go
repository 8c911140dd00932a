package azure_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/alphaswarm/controller/plugins/azure/internal/fakearm"
	"github.com/alphaswarm/controller/sdk"
	"github.com/alphaswarm/controller/sdk/backendtest"
)

// newCertificate returns a self-signed RSA certificate and the PEM of it
// with its private key, as an operator stores it for client_certificate.
func newCertificate(t *testing.T) (*x509.Certificate, string) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "alphaswarm test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return cert, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})) +
		string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))
}

// TestClientCertificate signs in with a certificate (a client assertion
// the fake verifies against the registered certificate), and fails at
// client_certificate with Entra ID's code for a certificate it does not
// know, without the key in the message.
func TestClientCertificate(t *testing.T) {
	t.Parallel()
	registered, good := newCertificate(t)
	_, other := newCertificate(t)
	own, err := fakearm.Start(fakearm.Options{TenantID: tenantID, ClientID: clientID, ClientSecret: clientSecret, ClientCertificate: registered})
	if err != nil {
		t.Fatal(err)
	}
	defer own.Close()
	own.AddEnvironment(subscription, group, envName, location)
	cfg := func(pemData string) json.RawMessage {
		c := map[string]any{}
		_ = json.Unmarshal(config(t, nil), &c)
		c["endpoint"], c["authority_host"] = own.URL(), own.URL()+"/"
		c["client_secret"], c["client_certificate"] = "", pemData
		raw, _ := json.Marshal(c)
		return raw
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := launchWith(t, own.CAFile()).Configure(ctx, &sdk.ConfigureRequest{Instance: "cert", Config: cfg(good)}); err != nil {
		t.Fatalf("configure with the registered certificate: %v", err)
	}
	_, err = launchWith(t, own.CAFile()).Configure(ctx, &sdk.ConfigureRequest{Instance: "cert", Config: cfg(other)})
	var invalid *sdk.InvalidConfigError
	if !errors.As(err, &invalid) || invalid.Path != "client_certificate" || !strings.Contains(err.Error(), "AADSTS700027") {
		t.Fatalf("configure with an unknown certificate: %v, want an InvalidConfigError at client_certificate naming AADSTS700027", err)
	}
	if strings.Contains(err.Error(), "PRIVATE KEY") {
		t.Errorf("the error shows the key: %v", err)
	}
}

// TestManagedIdentity signs in as the host's managed identity through the
// identity endpoint a Container Apps or App Service host gives
// (IDENTITY_ENDPOINT, IDENTITY_HEADER), and fails at managed_identity when
// the endpoint refuses.
func TestManagedIdentity(t *testing.T) {
	t.Parallel()
	own, err := fakearm.Start(fakearm.Options{TenantID: tenantID, ClientID: clientID, ClientSecret: clientSecret, IdentityHeader: "fake-identity-header"})
	if err != nil {
		t.Fatal(err)
	}
	defer own.Close()
	own.AddEnvironment(subscription, group, envName, location)
	c := map[string]any{}
	_ = json.Unmarshal(config(t, nil), &c)
	c["endpoint"], c["authority_host"] = own.URL(), own.URL()+"/"
	c["client_secret"], c["managed_identity"], c["tenant_id"], c["client_id"] = "", true, "", ""
	raw, _ := json.Marshal(c)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, tc := range []struct {
		name, header string
		ok           bool
	}{{"the host's header", "fake-identity-header", true}, {"a wrong header", "wrong", false}} {
		plugin := backendtest.LaunchPackage(pluginPackage, "SSL_CERT_FILE="+own.CAFile(),
			"IDENTITY_ENDPOINT="+own.IdentityEndpoint(), "IDENTITY_HEADER="+tc.header)(t)
		_, err := plugin.Configure(ctx, &sdk.ConfigureRequest{Instance: "mi", Config: raw})
		var invalid *sdk.InvalidConfigError
		switch {
		case tc.ok && err != nil:
			t.Errorf("%s: configure with a managed identity: %v", tc.name, err)
		case !tc.ok && (!errors.As(err, &invalid) || invalid.Path != "managed_identity"):
			t.Errorf("%s: configure: %v, want an InvalidConfigError at managed_identity", tc.name, err)
		}
	}
}
