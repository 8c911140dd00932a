package cli

import (
	"bytes"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestHealthcheck(t *testing.T) {
	ready := true
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path != "/readyz":
			http.NotFound(w, r)
		case ready:
			w.Write([]byte("ok\n"))
		default:
			http.Error(w, "database: not answering", http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	run := func(args ...string) (int, string, string) {
		var out, errOut bytes.Buffer
		code := Main(append([]string{"healthcheck"}, args...), &out, &errOut)
		return code, out.String(), errOut.String()
	}
	if code, out, _ := run("-address", addr); code != 0 || !strings.Contains(out, "ready") {
		t.Fatalf("ready host: exit %d, %q", code, out)
	}
	ready = false
	if code, _, errOut := run("-address", addr); code != 1 || !strings.Contains(errOut, "503") || !strings.Contains(errOut, "database: not answering") {
		t.Fatalf("unready host: exit %d, %q", code, errOut)
	}
	// Nothing listening: a closed port answers at once, with a clear error.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	if code, _, errOut := run("-address", closed, "-timeout", "2s"); code != 1 || !strings.Contains(errOut, "did not answer") {
		t.Fatalf("no host: exit %d, %q", code, errOut)
	}
	// A host that accepts but never answers is given up on after -timeout.
	hang, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer hang.Close()
	start := time.Now()
	if code, _, errOut := run("-address", hang.Addr().String(), "-timeout", "200ms"); code != 1 || !strings.Contains(errOut, "did not answer") {
		t.Fatalf("hanging host: exit %d, %q", code, errOut)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("hanging host: gave up after %v, want about 200ms", d)
	}
}

func TestDefaultHealthAddress(t *testing.T) {
	for listen, want := range map[string]string{
		"":               "127.0.0.1:7373",
		"0.0.0.0:7373":   "127.0.0.1:7373",
		":8080":          "127.0.0.1:8080",
		"[::]:7373":      "[::1]:7373",
		"10.0.0.5:7373":  "10.0.0.5:7373",
		"127.0.0.1:9000": "127.0.0.1:9000",
	} {
		if got := defaultHealthAddress(listen); got != want {
			t.Errorf("defaultHealthAddress(%q) = %q, want %q", listen, got, want)
		}
	}
}
