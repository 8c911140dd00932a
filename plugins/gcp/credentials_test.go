package gcp_test

import (
	"context"
	"testing"

	"github.com/alphaswarm/controller/plugins/gcp"
	"github.com/alphaswarm/controller/sdk"
)

// TestConfigureTakesEachCredentialKind: Configure makes its clients from
// each kind of credential ValidateConfig accepts, without calling Google
// (tokens are fetched by the first call, which the test never makes; the
// token URL is a closed loopback port all the same). Application default
// credentials are left out: looking for them probes the metadata server's
// address, which tests must not reach.
func TestConfigureTakesEachCredentialKind(t *testing.T) {
	for name, extra := range map[string]map[string]any{
		"service account key": {"credentials": fakeKey},
		"external account from a URL": {"credentials": `{"type": "external_account", "audience": "//iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/p/providers/q",
			"subject_token_type": "urn:ietf:params:oauth:token-type:jwt", "token_url": "https://sts.googleapis.com/v1/token", "credential_source": {"url": "http://127.0.0.1:1/token"}}`},
	} {
		t.Run(name, func(t *testing.T) {
			b := gcp.New()
			info, _ := b.Info(context.Background())
			extra["project"], extra["region"] = "alphaswarm-test", "europe-west1"
			cfg, err := info.ConfigSchema.Normalize(configJSON(extra))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := b.Configure(context.Background(), &sdk.ConfigureRequest{Config: cfg}); err != nil {
				t.Fatalf("configure: %v", err)
			}
		})
	}
}
