package api

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/alphaswarm/controller/sdk"
)

// TestPluginErrorsMapToStatus: the typed errors a plugin returns become the
// status a caller can act on, with the plugin's words; anything else is a
// 500 that keeps its text out of the answer.
func TestPluginErrorsMapToStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		err        error
		wantCode   int
		wantDetail string
	}{
		{"unsupported", sdk.Unsupported("aws", "exec"), http.StatusNotImplemented, `backend "aws" does not support exec`},
		{"not found", sdk.NotFound("replica %q", "r9"), http.StatusNotFound, `replica "r9" not found`},
		{"invalid config", sdk.InvalidConfig("region", "empty"), http.StatusBadRequest, "invalid config: region: empty"},
		{"invalid request", fmt.Errorf("exec in replica r1: %w", sdk.InvalidRequest("argument 2 holds whitespace")),
			http.StatusBadRequest, "exec in replica r1: argument 2 holds whitespace"},
		{"unavailable", sdk.Unavailable(errors.New("engine busy")), http.StatusServiceUnavailable, "unavailable: engine busy"},
		{"untyped", errors.New("dial 10.0.0.7: refused"), http.StatusInternalServerError,
			"internal error; the host log has the details under this request id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, detail := status(tt.err)
			if code != tt.wantCode || detail != tt.wantDetail {
				t.Errorf("status(%v) = %d %q, want %d %q", tt.err, code, detail, tt.wantCode, tt.wantDetail)
			}
		})
	}
}
