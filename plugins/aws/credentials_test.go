package aws_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alphaswarm/controller/plugins/aws/internal/awsemu"
	"github.com/alphaswarm/controller/sdk"
	"github.com/alphaswarm/controller/sdk/backendtest"
)

// noKeys are the configuration's static keys taken out, for the other
// credential kinds.
var noKeys = []any{"access_key_id", "", "secret_access_key", ""}

func without(kv ...any) json.RawMessage {
	return configWith(append(append([]any{}, noKeys...), kv...)...)
}

// TestCredentialKindsOffline: a configuration gives exactly one kind of
// credentials, complete, or validate refuses it at the attribute, reaching
// nothing; a credential not resolved yet counts as given.
func TestCredentialKindsOffline(t *testing.T) {
	t.Parallel()
	role := "arn:aws:iam::" + awsemu.AccountID + ":role/irsa"
	backendtest.CheckConfigs(t, launchUnconfigured, []backendtest.ConfigCase{
		{Name: "static keys", Config: configWith()},
		{Name: "a web identity token with its role", Config: without("web_identity_token", "eyJ.token", "role_arn", role)},
		{Name: "the default chain", Config: without("use_default_credentials", true)},
		{Name: "the default chain assuming a role", Config: without("use_default_credentials", true, "role_arn", role, "external_id", "x")},
		{Name: "an unknown token counts as given", Config: without("role_arn", role), Unknown: sdk.Unknown{"web_identity_token"}},
		{Name: "no credentials", Config: without(), ErrorPath: "access_key_id"},
		{Name: "an empty access key id", Config: configWith("access_key_id", ""), ErrorPath: "access_key_id"},
		{Name: "a session token alone", Config: without("session_token", "t", "use_default_credentials", true), ErrorPath: "session_token"},
		{Name: "keys and a web identity token", Config: configWith("web_identity_token", "eyJ.token", "role_arn", role), ErrorPath: "web_identity_token"},
		{Name: "keys and the default chain", Config: configWith("use_default_credentials", true), ErrorPath: "use_default_credentials"},
		{Name: "a token and the default chain", Config: without("web_identity_token", "eyJ.token", "role_arn", role, "use_default_credentials", true), ErrorPath: "use_default_credentials"},
		{Name: "a web identity token without a role", Config: without("web_identity_token", "eyJ.token"), ErrorPath: "role_arn"},
		{Name: "a web identity token with an external id", Config: without("web_identity_token", "eyJ.token", "role_arn", role, "external_id", "x"), ErrorPath: "external_id"},
	})
}

// TestWebIdentity: a web identity token given by reference assumes the
// role through STS AssumeRoleWithWebIdentity (unsigned, as in AWS), and
// the session credentials STS issued sign every later call, which the
// emulator verifies; a wrong token fails Configure with STS's code, never
// quoting the token.
func TestWebIdentity(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	role := "arn:aws:iam::" + awsemu.AccountID + ":role/alphaswarm-irsa-test"
	const token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQifQ.emulated"
	emu.AddWebIdentityRole(role, token)
	c := configured(t, without("web_identity_token", token, "role_arn", role))
	spec := newSpec("irsa", "api")
	state, _, err := apply(ctx, c, spec, nil, nil)
	defer c.Destroy(context.Background(), &sdk.DestroyRequest{Deployment: spec.Ref(), State: state, RemoveData: true}) //nolint:errcheck
	if err != nil {
		t.Fatalf("apply as the web identity's role: %v", err)
	}
	if n := emu.AssumedCalls(role); n < 3 {
		t.Errorf("%d calls signed with the role's session, want every call of configure and apply", n)
	}
	if emu.Calls("sts.AssumeRoleWithWebIdentity") == 0 {
		t.Error("STS AssumeRoleWithWebIdentity was never called")
	}
	bad := backendtest.LaunchPackage(pluginPackage)(t)
	_, err = bad.Configure(ctx, &sdk.ConfigureRequest{Instance: "test", Config: without("web_identity_token", "eyJ.wrong.token", "role_arn", role)})
	if err == nil || !strings.Contains(err.Error(), "InvalidIdentityToken") || strings.Contains(err.Error(), "eyJ.wrong.token") {
		t.Errorf("configure with a wrong token: %v, want InvalidIdentityToken without the token", err)
	}
}

// TestDefaultChain: with use_default_credentials the plugin takes its
// credentials from its environment: keys, IRSA's token file with its role,
// or the ECS container endpoint; finding none fails Configure saying what
// it read. Without it, AWS_* variables are ignored.
func TestDefaultChain(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	role := "arn:aws:iam::" + awsemu.AccountID + ":role/alphaswarm-chain-test"
	const token = "eyJhbGciOiJSUzI1NiJ9.chain.emulated"
	emu.AddWebIdentityRole(role, token)
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(token), 0o600); err != nil {
		t.Fatal(err)
	}
	endpoint := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "container-auth" {
			http.Error(w, `{"code":"AccessDenied","message":"no"}`, http.StatusForbidden)
			return
		}
		json.NewEncoder(w).Encode(map[string]string{"AccessKeyId": awsemu.AccessKeyID, "SecretAccessKey": awsemu.SecretAccessKey}) //nolint:errcheck
	}))
	defer endpoint.Close()
	for _, tc := range []struct {
		name   string
		env    []string
		config json.RawMessage
		want   string // in Configure's error; "" for success
	}{
		{"keys in the environment", []string{"AWS_ACCESS_KEY_ID=" + awsemu.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + awsemu.SecretAccessKey},
			without("use_default_credentials", true), ""},
		{"IRSA's token file", []string{"AWS_WEB_IDENTITY_TOKEN_FILE=" + tokenFile, "AWS_ROLE_ARN=" + role},
			without("use_default_credentials", true), ""},
		{"the container endpoint", []string{"AWS_CONTAINER_CREDENTIALS_FULL_URI=" + endpoint.URL + "/creds", "AWS_CONTAINER_AUTHORIZATION_TOKEN=container-auth"},
			without("use_default_credentials", true), ""},
		{"nothing", nil, without("use_default_credentials", true), "AWS_WEB_IDENTITY_TOKEN_FILE"},
		{"keys in the environment, ignored without the switch", []string{"AWS_ACCESS_KEY_ID=AKIAOTHER0000000000", "AWS_SECRET_ACCESS_KEY=other"},
			configWith(), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := backendtest.LaunchPackage(pluginPackage, tc.env...)(t)
			_, err := c.Configure(ctx, &sdk.ConfigureRequest{Instance: "test", Config: tc.config})
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("configure: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("configure: %v, want an error saying %q", err, tc.want)
			}
		})
	}
	if emu.AssumedCalls(role) == 0 {
		t.Error("no call was made as the role of AWS_ROLE_ARN")
	}
}
