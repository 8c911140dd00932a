package api

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"time"

	"github.com/gorilla/mux"

	"github.com/alphaswarm/controller/core/auth"
)

type ctxKey int

const (
	requestIDKey ctxKey = iota
	principalKey
)

// validRequestID is what a caller-supplied X-Request-Id may look like;
// anything else is replaced, so ids are safe to log.
var validRequestID = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

func requestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

func principal(ctx context.Context) *auth.Principal {
	p, _ := ctx.Value(principalKey).(*auth.Principal)
	return p
}

// withRequestID gives each request an id, the caller's when it is sane.
func withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if !validRequestID.MatchString(id) {
			b := make([]byte, 12)
			rand.Read(b)
			id = hex.EncodeToString(b)
		}
		w.Header().Set("X-Request-Id", id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey, id)))
	})
}

// statusWriter remembers the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Hijack hands the connection over for a WebSocket upgrade.
func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := w.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, fmt.Errorf("hijack connection: %T cannot", w.ResponseWriter)
	}
	if w.code == 0 {
		w.code = http.StatusSwitchingProtocols
	}
	return h.Hijack()
}

// Unwrap lets http.ResponseController reach Flush and Hijack.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// observe recovers from panics and records each request's route, status
// and latency.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w}
		start := time.Now()
		route := "unmatched"
		if cur := mux.CurrentRoute(r); cur != nil {
			route, _ = cur.GetPathTemplate()
		}
		defer func() {
			if v := recover(); v != nil {
				s.log.Error("handler panicked", "request_id", requestID(r.Context()), "path", r.URL.Path, "panic", v)
				if sw.code == 0 {
					s.fail(sw, r, fmt.Errorf("panic: %v", v))
				}
			}
			s.metrics.request(r.Method, route, sw.code, time.Since(start))
		}()
		next.ServeHTTP(sw, r)
	})
}

// authenticate verifies the bearer token and puts the principal in the
// request context; a refused token is audited and answered 401 (or 503
// when the issuer cannot be reached).
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, err := auth.BearerToken(r)
		var p *auth.Principal
		if err == nil {
			p, err = s.verifier.Verify(r.Context(), token)
		}
		if err != nil {
			code, reason := status(err)
			if s.anonymousAudit.Allow() {
				s.audit(r, nil, "authenticate", r.Method+" "+r.URL.Path, "", "deny", fmt.Sprintf("%d: %s", code, reason))
			} else {
				s.metrics.auditDropped.Inc()
			}
			s.fail(w, r, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), principalKey, p)))
	})
}
