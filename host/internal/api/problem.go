package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/alphaswarm/controller/core/auth"
	"github.com/alphaswarm/controller/host/internal/api/wire"
	"github.com/alphaswarm/controller/host/internal/pluginmgr"
	"github.com/alphaswarm/controller/host/internal/store"
	"github.com/alphaswarm/controller/sdk"
)

// apiError is an error with the answer it deserves.
type apiError struct {
	status int
	field  string
	detail string
	diags  []wire.Diagnostic
}

func (e *apiError) Error() string { return e.detail }

func badRequest(field, format string, args ...any) error {
	return &apiError{status: http.StatusBadRequest, field: field, detail: fmt.Sprintf(format, args...)}
}

func notFound(format string, args ...any) error {
	return &apiError{status: http.StatusNotFound, detail: fmt.Sprintf(format, args...)}
}

// status maps an error to its HTTP status and the detail shown to the
// caller. This is the one place where errors become codes.
func status(err error) (int, string) {
	var ae *apiError
	var authErr *auth.Error
	var unsupported *sdk.UnsupportedError
	var missing *sdk.NotFoundError
	var unavailable *sdk.UnavailableError
	var invalid *sdk.InvalidConfigError
	var badRequest *sdk.InvalidRequestError
	switch {
	case errors.As(err, &ae):
		return ae.status, ae.detail
	case errors.As(err, &authErr):
		return authErr.Status, authErr.Reason
	case errors.As(err, &unsupported):
		return http.StatusNotImplemented, err.Error()
	case errors.As(err, &missing), errors.Is(err, store.ErrNotFound):
		return http.StatusNotFound, err.Error()
	case errors.As(err, &invalid), errors.As(err, &badRequest):
		return http.StatusBadRequest, err.Error()
	case errors.As(err, &unavailable), errors.Is(err, pluginmgr.ErrStopped):
		return http.StatusServiceUnavailable, err.Error()
	case errors.Is(err, store.ErrCorruptState):
		return http.StatusInternalServerError, err.Error()
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout, "the backend did not answer in time"
	}
	return http.StatusInternalServerError, "internal error; the host log has the details under this request id"
}

// fail answers err as a problem document.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	code, detail := status(err)
	p := wire.Problem{Type: "about:blank", Title: http.StatusText(code), Status: code, Detail: detail, RequestID: requestID(r.Context())}
	var ae *apiError
	if errors.As(err, &ae) {
		p.Field, p.Diagnostics = ae.field, ae.diags
	}
	if code >= 500 {
		s.log.Error("request failed", "request_id", p.RequestID, "method", r.Method, "path", r.URL.Path, "error", err)
	}
	if code == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(p)
}

// reply writes v as JSON with status code.
func reply(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}
