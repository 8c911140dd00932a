package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

// decode reads one JSON object from the body into v, at most limit
// bytes, refusing unknown fields and trailing data. Errors name the field.
func (s *Server) decode(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	// A body that dribbles in is cut off at the deadline; the connection
	// then ends, which is all such a client deserves.
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(s.bodyTimeout))
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return bodyError(err, limit)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return bodyError(err, limit)
		}
		return badRequest("", "the body holds data after its JSON object")
	}
	return nil
}

func bodyError(err error, limit int64) error {
	var tooLarge *http.MaxBytesError
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &tooLarge):
		return &apiError{status: http.StatusRequestEntityTooLarge, detail: fmt.Sprintf("the request body exceeds %d bytes", limit)}
	case errors.Is(err, os.ErrDeadlineExceeded):
		return &apiError{status: http.StatusRequestTimeout, detail: "the request body did not arrive in time"}
	case errors.Is(err, io.EOF):
		return badRequest("", "the request body is empty; a JSON object is expected")
	case errors.As(err, &syntax):
		return badRequest("", "malformed JSON at byte %d: %s", syntax.Offset, syntax.Error())
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("", "malformed JSON: the body ends in the middle of a value")
	case errors.As(err, &typ):
		return badRequest(typ.Field, "%s must be %s, not a JSON %s", orBody(typ.Field), typ.Type.String(), typ.Value)
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		name = strings.Trim(name, `"`)
		return badRequest(name, "unknown field %q", name)
	}
	return badRequest("", "malformed JSON: %v", err)
}

func orBody(field string) string {
	if field == "" {
		return "the body"
	}
	return field
}
