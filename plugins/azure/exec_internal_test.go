package azure

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gorilla/websocket"

	"github.com/alphaswarm/controller/sdk"
)

// TestExecCommandLine: the arguments become one line; an argument the line
// could not carry faithfully is refused.
func TestExecCommandLine(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		cmd     []string
		want    string
		wantErr bool
	}{
		{"words", []string{"ls", "-l", "/tmp"}, "ls -l /tmp", false},
		{"shell script without spaces", []string{"sh", "-c", "exit${IFS}3"}, "sh -c exit${IFS}3", false},
		{"empty command", nil, "", true},
		{"empty argument", []string{"echo", ""}, "", true},
		{"space", []string{"sh", "-c", "exit 3"}, "", true},
		{"tab", []string{"a\tb"}, "", true},
		{"newline", []string{"a\nb"}, "", true},
		{"control character", []string{"a\x1bb"}, "", true},
		{"invalid UTF-8", []string{"a\xffb"}, "", true},
		{"too long", []string{string(bytes.Repeat([]byte("x"), maxExecCommand+1))}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := execCommandLine(tt.cmd)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("execCommandLine(%q) = %q, %v; want %q, error %v", tt.cmd, got, err, tt.want, tt.wantErr)
			}
			var bad *sdk.InvalidRequestError
			if tt.wantErr && !errors.As(err, &bad) {
				t.Errorf("execCommandLine(%q) error %T is not an InvalidRequestError, so the API would hide it", tt.cmd, err)
			}
		})
	}
}

// TestExecFromLogStream: without an execEndpoint, the endpoint is built
// from the log stream endpoint as the Azure CLI does; anything else gives
// none.
func TestExecFromLogStream(t *testing.T) {
	t.Parallel()
	const base = "/subscriptions/s/resourceGroups/rg/containerApps/app/revisions/r/replicas/p/containers/main"
	tests := []struct{ in, want string }{
		{"https://westeurope.azurecontainerapps.dev" + base + "/logstream", "wss://westeurope.azurecontainerapps.dev" + base + "/exec"},
		{"https://westeurope.azurecontainerapps.dev" + base + "/logstream?tailLines=10", "wss://westeurope.azurecontainerapps.dev" + base + "/exec"},
		{"http://plain.example" + base + "/logstream", ""},
		{"https://westeurope.azurecontainerapps.dev" + base + "/other", ""},
		{"::not a url", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			if got := execFromLogStream(tt.in); got != tt.want {
				t.Errorf("execFromLogStream(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestExecEnded: a close frame the endpoint sends when the command ends is
// the session's end; an abnormal close or a broken connection is an error.
func TestExecEnded(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		ok   bool
	}{
		{"normal close", &websocket.CloseError{Code: websocket.CloseNormalClosure}, true},
		{"going away", &websocket.CloseError{Code: websocket.CloseGoingAway}, true},
		{"close without status", &websocket.CloseError{Code: websocket.CloseNoStatusReceived}, true},
		{"internal error", &websocket.CloseError{Code: websocket.CloseInternalServerErr, Text: "boom"}, false},
		{"abnormal", &websocket.CloseError{Code: websocket.CloseAbnormalClosure}, false},
		{"broken", io.ErrUnexpectedEOF, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if err := execEnded("r1", tt.err); (err == nil) != tt.ok {
				t.Errorf("execEnded(%v) = %v, want ended %v", tt.err, err, tt.ok)
			}
		})
	}
}

// TestForwardExecOutput: forwarded frames go to their stream; an unknown
// stream or a frame without one is an error.
func TestForwardExecOutput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name           string
		frame          []byte
		stdout, stderr string
		wantErr        bool
	}{
		{"stdout", []byte{0, 1, 'h', 'i'}, "hi", "", false},
		{"stderr", []byte{0, 2, 'o', 'h'}, "", "oh", false},
		{"unknown stream", []byte{0, 3, 'x'}, "", "", true},
		{"no stream byte", []byte{0}, "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out, errOut bytes.Buffer
			err := forwardExecOutput(tt.frame, "r1", sdk.ExecStreams{Stdout: &out, Stderr: &errOut})
			got := []string{out.String(), errOut.String()}
			if diff := cmp.Diff([]string{tt.stdout, tt.stderr}, got); diff != "" || (err != nil) != tt.wantErr {
				t.Errorf("forward %v: err %v (want error %v), streams (-want +got):\n%s", tt.frame, err, tt.wantErr, diff)
			}
		})
	}
}

// TestProxyErrorText: the proxy's JSON error reads as code and message;
// anything else is quoted and cut.
func TestProxyErrorText(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, body, want string }{
		{"json", `{"Error":{"Code":"ClusterExecEndpointWebSocketConnectionError","Message":"Failed to establish WebSocket connection"}}`,
			"ClusterExecEndpointWebSocketConnectionError: Failed to establish WebSocket connection"},
		{"text", "replica gone", `"replica gone"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := proxyErrorText([]byte(tt.body)); got != tt.want {
				t.Errorf("proxyErrorText(%q) = %q, want %q", tt.body, got, tt.want)
			}
		})
	}
	if got := proxyErrorText(bytes.Repeat([]byte("x"), 2000)); len(got) > 600 {
		t.Errorf("a long proxy error is %d characters, want it cut", len(got))
	}
}

// TestQuotaAnswer: quota codes and messages are quota; ARM's general
// OperationNotAllowed is quota only when its message says so.
func TestQuotaAnswer(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		code, message string
		want          bool
	}{
		{"QuotaExceeded", "", true},
		{"MaxNumberOfRegionalEnvironmentsInSubExceeded", "", true},
		{"ContainerAppOperationError", "Maximum Allowed Cores exceeded for the Managed Environment.", true},
		{"OperationNotAllowed", "Operation results in exceeding quota limits of Core.", true},
		{"OperationNotAllowed", "The subscription is disabled.", false},
		{"Conflict", "another operation is in progress", false},
	} {
		if got := quotaAnswer(tc.code, tc.message); got != tc.want {
			t.Errorf("quotaAnswer(%q, %q) = %v, want %v", tc.code, tc.message, got, tc.want)
		}
	}
}
