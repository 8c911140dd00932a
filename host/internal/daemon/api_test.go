package daemon

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/alphaswarm/controller/core/auth/devissuer"
)

// TestServerServesTheAPIWithAnIssuer runs swarmctl server as an operator
// would, with -issuer and -audience: the API answers a token from that
// issuer, refuses one for another audience, and without an issuer only
// the health endpoints answer.
func TestServerServesTheAPIWithAnIssuer(t *testing.T) {
	t.Parallel()
	key, err := devissuer.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	const audience = "https://api.alphaswarm.example"
	iss, err := devissuer.Start("127.0.0.1:0", audience, key)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { iss.Close() })
	get := func(h *host, path, token string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", "http://"+h.addr+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	waitAPI := func(h *host) {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			if h.ready() == http.StatusOK {
				return
			}
		}
		t.Fatal("the host did not get ready")
	}
	token, err := iss.Mint(devissuer.Claims{Subject: "ops", Tenant: "acme", Environments: []string{"*"}, Permissions: []string{"deployments:read"}})
	if err != nil {
		t.Fatal(err)
	}

	h := startHost(t, sqliteDB(t), "with-issuer", "-issuer", iss.URL, "-audience", audience)
	waitAPI(h)
	if code, body := get(h, "/v1/deployments", token); code != http.StatusOK || !strings.Contains(body, `"deployments":[]`) {
		t.Errorf("a token of the configured issuer: %d %s", code, body)
	}
	other := &devissuer.Signer{Issuer: iss.URL, Audience: "https://another-api.example", Key: key}
	wrong, _ := other.Mint(devissuer.Claims{Subject: "ops", Tenant: "acme", Permissions: []string{"deployments:read"}})
	if code, body := get(h, "/v1/deployments", wrong); code != http.StatusUnauthorized || !strings.Contains(body, "audience") {
		t.Errorf("a token for another audience: %d %s", code, body)
	}

	bare := startHost(t, sqliteDB(t), "without-issuer")
	waitAPI(bare)
	if code, body := get(bare, "/v1/deployments", token); code != http.StatusServiceUnavailable || !strings.Contains(body, "no token issuer is configured") {
		t.Errorf("the API without an issuer: %d %s", code, body)
	}
	if code, _ := get(bare, "/healthz", ""); code != http.StatusOK {
		t.Errorf("/healthz without an issuer: %d", code)
	}
}
