package api_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// auditCount is how many entries the harness's audit log holds.
func (h *harness) auditCount() int {
	h.t.Helper()
	entries, err := h.store.Audit(context.Background(), nil, 1<<20)
	if err != nil {
		h.t.Fatal(err)
	}
	return len(entries)
}

// TestLongURIsAnswer414WithoutAudit sends a path of 10 KiB: it answers 414
// before authentication, and the audit log does not grow.
func TestLongURIsAnswer414WithoutAudit(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	before := h.auditCount()
	code, out := h.do("GET", "/v1/deployments/acme/"+strings.Repeat("x", 10<<10), "", nil)
	if code != http.StatusRequestURITooLong || !strings.Contains(string(out), "exceed 4096 bytes") {
		t.Errorf("a 10 KiB path: %d %s", code, out)
	}
	if after := h.auditCount(); after != before {
		t.Errorf("the audit log grew from %d to %d entries", before, after)
	}
}

// TestAnonymousDenialsAreBoundedInTheAuditLog sends 400 requests without a
// token, each with a path of 1,200 bytes of two-byte runes: every one is denied, the audit log
// keeps at most its burst and rate of them, each entry's target clipped.
func TestAnonymousDenialsAreBoundedInTheAuditLog(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	start := time.Now()
	path := "/v1/deployments/acme/" + strings.Repeat("é", 600)
	for range 400 {
		if code, _ := h.do("GET", path, "", nil); code != http.StatusUnauthorized {
			t.Fatalf("a request without a token: %d", code)
		}
	}
	entries, err := h.store.Audit(context.Background(), nil, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if limit := 100 + int(10*time.Since(start).Seconds()) + 1; len(entries) > limit {
		t.Errorf("%d audit entries for 400 anonymous denials, want at most %d", len(entries), limit)
	}
	for _, e := range entries {
		if len(e.Target) > 260 || !utf8.ValidString(e.Target) || !strings.HasSuffix(e.Target, "…") {
			t.Fatalf("an audit target of %d bytes: %.80q", len(e.Target), e.Target)
		}
	}
	code, out := h.do("GET", "/metrics", "", nil)
	if code != 200 || !strings.Contains(string(out), "alphaswarm_audit_anonymous_denials_dropped_total") {
		t.Errorf("metrics: %d, no count of the dropped denials", code)
	}
}

// TestSlowBodyIsCutOff sends a plan body a byte every 100ms: the host
// stops reading at its body deadline and answers 408.
func TestSlowBodyIsCutOff(t *testing.T) {
	t.Parallel()
	h := newHarnessOn(t, "sqlite", func(s *setup) { s.api.BodyTimeout = 500 * time.Millisecond })
	conn, err := net.Dial("tcp", strings.TrimPrefix(h.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /v1/plan HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"files\": {\"main.hcl\": \"", h.admin("acme"))
	answered := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(conn).ReadString('\n')
		answered <- line
	}()
	for i := 0; ; i++ {
		select {
		case line := <-answered:
			if !strings.Contains(line, "408") {
				t.Errorf("the answer to a dribbled body: %q", line)
			}
			return
		case <-time.After(100 * time.Millisecond):
		}
		if i > 100 {
			t.Fatal("the host still reads a body dribbled for 10s")
		}
		conn.Write([]byte("#"))
	}
}

// TestPlanDecidesThePermissionFirst plans files that do not even parse
// with a read-only token: the answer is 403, so nothing was read of them.
func TestPlanDecidesThePermissionFirst(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	reader := h.token("acme", []string{"*"}, "deployments:read")
	body := map[string]any{"files": map[string]string{"main.hcl": strings.Repeat("locals { a = [", 1000)}}
	for _, path := range []string{"/v1/plan", "/v1/apply"} {
		if code, out := h.do("POST", path, reader, body); code != http.StatusForbidden || !strings.Contains(string(out), "missing permission deployments:deploy") {
			t.Errorf("%s with a read-only token: %d %s", path, code, out)
		}
	}
}

// TestBackendBlocksAloneStartNoPlugin plans a file of backend blocks and
// no deployment: a registered backend's block gets a warning that it was
// not checked, blocks of backends no operator registered are refused, and
// no plugin process starts either way.
func TestBackendBlocksAloneStartNoPlugin(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	before, _ := h.plugins.Stats()
	code, out := h.do("POST", "/v1/plan", h.admin("acme"), map[string]any{"files": map[string]string{"main.hcl": "backend \"memory\" \"sim\" {}\n"}})
	if code != http.StatusOK || !strings.Contains(string(out), "Backend not used") {
		t.Errorf("plan of a registered backend's block alone: %d %.300s", code, out)
	}
	var src strings.Builder
	for i := range 40 {
		fmt.Fprintf(&src, "backend \"memory\" \"b%d\" {}\n", i)
	}
	code, out = h.do("POST", "/v1/plan", h.admin("acme"), map[string]any{"files": map[string]string{"main.hcl": src.String()}})
	if code != http.StatusUnprocessableEntity || strings.Count(string(out), "Backend not registered") != 40 || !strings.Contains(string(out), "Backends tenant acme may use: memory.sim.") {
		t.Errorf("plan of unregistered backends' blocks: %d %.300s", code, out)
	}
	if after, _ := h.plugins.Stats(); after != before {
		t.Errorf("%d plugin processes started for files without deployments", after-before)
	}
}

// TestHostileTopologiesGetDiagnostics plans topologies built to take the
// host's stack, memory or time: each answers 400 with the limit it
// reached, and the host plans a good topology right after.
func TestHostileTopologiesGetDiagnostics(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	admin := h.admin("acme")
	for name, tc := range map[string]struct{ src, want string }{
		"parentheses 200,000 deep": {"locals {\n  x = " + strings.Repeat("(", 200_000) + "1" + strings.Repeat(")", 200_000) + "\n}\n", "Nesting too deep"},
		"fors over ranges":         {"locals {\n  x = [for i in range(1024): [for j in range(1024): j]]\n}\n", "Value too large"},
		"a range of a billion":     {"locals {\n  x = range(1000000000)\n}\n", "range() would make 1000000000 elements"},
	} {
		code, out := h.do("POST", "/v1/plan", admin, map[string]any{"files": map[string]string{"main.hcl": tc.src}})
		if code != http.StatusBadRequest || !strings.Contains(string(out), tc.want) {
			t.Errorf("%s: %d %.300s", name, code, out)
		}
	}
	if code, out := h.do("POST", "/v1/plan", admin, topology("acme", "prod", "web")); code != http.StatusOK {
		t.Errorf("a good plan afterwards: %d %s", code, out)
	}
}
