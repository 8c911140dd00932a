package api_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/alphaswarm/controller/core/auth"
	"github.com/alphaswarm/controller/host/internal/api/wire"
)

func TestLogs(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.deploy("acme", "prod", "web")
	tok := h.token("acme", []string{"prod"}, auth.DeploymentsLogs)
	t.Run("plain, tail per replica", func(t *testing.T) {
		code, out := h.do("GET", "/v1/deployments/acme/web/services/api/logs?tail=1", tok, nil)
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		if code != 200 || len(lines) != 2 || !strings.Contains(lines[0], " | ") {
			t.Errorf("got %d, %d lines (want 1 per replica):\n%s", code, len(lines), out)
		}
	})
	t.Run("follow as server-sent events", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", h.url+"/v1/deployments/acme/web/services/api/logs?follow=true&tail=0", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Accept", "text/event-stream")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		lines := 0
		for sc.Scan() && lines < 5 { // new lines arrive as the replicas log
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				var l struct{ Service, Replica, Message string }
				if err := json.Unmarshal([]byte(data), &l); err != nil || l.Service != "api" || l.Replica == "" {
					t.Fatalf("event %q: %+v %v", data, l, err)
				}
				lines++
			}
		}
		if lines < 5 {
			t.Errorf("a follow delivered %d lines before ending: %v", lines, sc.Err())
		}
	})
}

func TestExecOverWebSocket(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.deploy("acme", "prod", "web")
	tok := h.token("acme", []string{"prod"}, auth.DeploymentsExec)
	dial := func(query string) *websocket.Conn {
		t.Helper()
		url := "ws" + strings.TrimPrefix(h.url, "http") + "/v1/deployments/acme/web/services/api/exec?" + query
		conn, resp, err := websocket.DefaultDialer.Dial(url, http.Header{"Authorization": {"Bearer " + tok}})
		if err != nil {
			t.Fatalf("dial: %v (%v)", err, resp)
		}
		t.Cleanup(func() { conn.Close() })
		return conn
	}
	t.Run("stdin echoed, then exit 0", func(t *testing.T) {
		conn := dial("command=cat")
		conn.WriteMessage(websocket.BinaryMessage, append([]byte{wire.StreamStdin}, "hello over ws\n"...))
		conn.WriteMessage(websocket.BinaryMessage, append([]byte{wire.StreamControl}, `{"type":"close_stdin"}`...))
		stdout, ctl := readExec(t, conn)
		if stdout != "hello over ws\n" || ctl.Type != "exit" || ctl.Code != 0 {
			t.Errorf("stdout %q, control %+v", stdout, ctl)
		}
	})
	t.Run("exit code", func(t *testing.T) {
		conn := dial("command=exit&command=42")
		if _, ctl := readExec(t, conn); ctl.Type != "exit" || ctl.Code != 42 {
			t.Errorf("control %+v, want exit 42", ctl)
		}
	})
	t.Run("a browser's token as a subprotocol", func(t *testing.T) {
		url := "ws" + strings.TrimPrefix(h.url, "http") + "/v1/deployments/acme/web/services/api/exec?command=echo&command=from&command=a&command=browser"
		dialer := websocket.Dialer{Subprotocols: []string{wire.ExecSubprotocol, auth.WebSocketTokenPrefix + base64.RawURLEncoding.EncodeToString([]byte(tok))}}
		conn, resp, err := dialer.Dial(url, nil)
		if err != nil {
			t.Fatalf("dial: %v (%v)", err, resp)
		}
		defer conn.Close()
		if conn.Subprotocol() != wire.ExecSubprotocol {
			t.Errorf("subprotocol %q, want %q", conn.Subprotocol(), wire.ExecSubprotocol)
		}
		if out, ctl := readExec(t, conn); out != "from a browser\n" || ctl.Code != 0 {
			t.Errorf("stdout %q, control %+v", out, ctl)
		}
		bad := websocket.Dialer{Subprotocols: []string{wire.ExecSubprotocol, auth.WebSocketTokenPrefix + "!!not-base64!!"}}
		if _, resp, err := bad.Dial(url, nil); err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("a malformed token subprotocol: %v %v", err, resp)
		}
	})
	t.Run("unknown replica", func(t *testing.T) {
		conn := dial("command=hostname&replica=nope")
		if _, ctl := readExec(t, conn); ctl.Type != "error" || !strings.Contains(ctl.Message, "nope") {
			t.Errorf("control %+v, want an error naming the replica", ctl)
		}
	})
}

// readExec collects stdout until the control message that ends a session.
func readExec(t *testing.T, conn *websocket.Conn) (string, wire.ExecControl) {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	var stdout strings.Builder
	for {
		_, msg, err := conn.ReadMessage()
		if err != nil {
			t.Fatalf("read: %v (stdout so far %q)", err, stdout.String())
		}
		switch msg[0] {
		case wire.StreamStdout:
			stdout.Write(msg[1:])
		case wire.StreamControl:
			var c wire.ExecControl
			if err := json.Unmarshal(msg[1:], &c); err != nil {
				t.Fatal(err)
			}
			return stdout.String(), c
		}
	}
}

func TestMetricsNodesAndBackends(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.deploy("acme", "prod", "web")
	tok := h.admin("acme")
	code, out := h.do("GET", "/v1/deployments/acme/web/metrics", tok, nil)
	if points := decodeJSON[struct {
		Points []struct{ Replica, Name string }
	}](t, out).Points; code != 200 || len(points) == 0 {
		t.Errorf("metrics: %d %s", code, out)
	}
	code, out = h.do("GET", "/v1/nodes?backend=memory.sim", tok, nil)
	if nodes := decodeJSON[struct{ Nodes []struct{ Name string } }](t, out).Nodes; code != 200 || len(nodes) != 1 {
		t.Errorf("nodes: %d %s", code, out)
	}
	if code, out := h.do("GET", "/v1/nodes?backend=compose.local", tok, nil); code != 404 {
		t.Errorf("nodes of a backend the tenant does not use: %d %s", code, out)
	}
	code, out = h.do("GET", "/v1/backends", tok, nil)
	backends := decodeJSON[struct {
		Backends []struct {
			ID, Health string
			Protocol   int
			Settable   []string
		}
	}](t, out).Backends
	if code != 200 || len(backends) != 1 || backends[0].ID != "memory.sim" || backends[0].Health != "ok" || backends[0].Protocol != 1 ||
		!slices.Equal(backends[0].Settable, []string{"latency", "log_interval", "node_name"}) {
		t.Errorf("backends: %d %s", code, out)
	}
	if strings.Contains(string(out), pluginDir) {
		t.Error("the backend listing shows host paths")
	}
}

func TestServerSurface(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.do("GET", "/v1/deployments", h.admin("acme"), nil)
	code, out := h.do("GET", "/metrics", "", nil)
	for _, want := range []string{`alphaswarm_http_requests_total{code="200",method="GET",route="/v1/deployments"} 1`, "alphaswarm_plugin_launches_total", "alphaswarm_jobs"} {
		if code != 200 || !strings.Contains(string(out), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	for path, want := range map[string]string{"/healthz": "ok\n", "/readyz": "ready\n"} {
		if code, out := h.do("GET", path, "", nil); code != 200 || string(out) != want {
			t.Errorf("%s: %d %q", path, code, out)
		}
	}
	req, _ := http.NewRequest("GET", h.url+"/v1/deployments", nil)
	req.Header.Set("X-Request-Id", "trace-42")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("X-Request-Id"); got != "trace-42" {
		t.Errorf("request id %q, want the caller's", got)
	}
	req.Header.Set("X-Request-Id", "bad id with spaces")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("X-Request-Id"); len(got) != 24 {
		t.Errorf("a malformed request id was kept: %q", got)
	}
}
