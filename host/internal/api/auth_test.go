package api_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/alphaswarm/controller/core/auth"
	"github.com/alphaswarm/controller/core/auth/authtest"
	"github.com/alphaswarm/controller/core/auth/devissuer"
)

// TestAttackTable sends every hostile token of authtest through the real
// server; each must get its status and a problem naming the reason.
func TestAttackTable(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	base := devissuer.Claims{Subject: "alice", Tenant: "acme", Environments: []string{"prod"}, Permissions: []string{string(auth.DeploymentsRead)}}
	for _, c := range authtest.Cases(t, h.iss, base) {
		t.Run(c.Name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", h.url+"/v1/deployments", nil)
			if c.Header != "" {
				req.Header.Set("Authorization", c.Header)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != c.Status {
				t.Fatalf("status %d, want %d", resp.StatusCode, c.Status)
			}
			if c.Status == http.StatusOK {
				return
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("content type %q", ct)
			}
			p := decodeJSON[struct {
				Detail    string
				RequestID string `json:"request_id"`
			}](t, readAll(t, resp))
			if !strings.Contains(p.Detail, c.Reason) || p.RequestID == "" {
				t.Errorf("problem %+v, want a detail containing %q and a request id", p, c.Reason)
			}
		})
	}
}

func TestForgedTokensFetchKeysRarely(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	if code, body := h.do("GET", "/v1/deployments", h.admin("acme"), nil); code != http.StatusOK {
		t.Fatalf("valid token: %d %s", code, body)
	}
	before := h.iss.JWKSFetches()
	for i := range 200 {
		s := h.iss.Signer()
		tok, err := s.SignJSON(s.Claims(devissuer.Claims{Subject: "mallory", Tenant: "acme"}), map[string]any{"kid": fmt.Sprintf("forged-%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		if code, _ := h.do("GET", "/v1/deployments", tok, nil); code != http.StatusUnauthorized {
			t.Fatalf("forged token %d: %d", i, code)
		}
	}
	if n := h.iss.JWKSFetches() - before; n > 1 {
		t.Errorf("200 forged tokens caused %d JWKS fetches, want at most 1", n)
	}
}

// TestDenialsAreAudited checks that refused tokens and refused
// permissions land in the audit log, and that no token does.
func TestDenialsAreAudited(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.deploy("acme", "prod", "web")
	reader := h.token("acme", []string{"prod"}, auth.DeploymentsRead)
	if code, _ := h.do("POST", "/v1/deployments/acme/web/destroy", reader, nil); code != http.StatusForbidden {
		t.Fatalf("destroy without permission: %d", code)
	}
	h.do("GET", "/v1/deployments", "garbage.token.here", nil)
	code, body := h.do("GET", "/v1/audit", h.admin("acme"), nil)
	if code != http.StatusOK {
		t.Fatalf("audit: %d %s", code, body)
	}
	log := string(body)
	for _, want := range []string{`"action":"destroy","target":"acme/prod/web","decision":"deny","reason":"missing permission deployments:destroy"`, `"action":"apply","target":"acme/prod/web","decision":"allow"`} {
		if !strings.Contains(log, want) {
			t.Errorf("audit log lacks %s:\n%s", want, log)
		}
	}
	if strings.Contains(log, reader) || strings.Contains(log, "garbage.token.here") {
		t.Error("the audit log holds a token")
	}
	entries, err := h.store.Audit(t.Context(), []string{""}, 10)
	if err != nil || len(entries) == 0 || entries[0].Decision != "deny" || entries[0].Actor != "anonymous" {
		t.Errorf("the refused token is not audited: %+v %v", entries, err)
	}
}

func readAll(t *testing.T, resp *http.Response) []byte {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
