package sdk

import (
	"errors"
	"fmt"
	"time"
)

// The typed errors below keep their type across the plugin boundary: a
// backend returns one, and the host receives the same type from
// pluginhost.Client. Any other error arrives as a plain error with the backend's message (an
// internal error). Test for them with errors.As.

// UnsupportedError says a backend does not offer an operation. Reason,
// when set, says why and what would change it, for a backend that offers
// the operation only where the environment allows (metrics on a cluster
// without metrics-server, say).
type UnsupportedError struct {
	Backend string
	Op      string
	Reason  string
}

func (e *UnsupportedError) Error() string {
	msg := fmt.Sprintf("backend %q does not support %s", e.Backend, e.Op)
	if e.Reason != "" {
		msg += ": " + e.Reason
	}
	return msg
}

// UnsupportedReasoner is an optional interface for a backend that leaves
// a capability undeclared on purpose and can say why: the SDK's server
// asks it when it answers Unsupported for an operation of a capability
// the backend does not implement, and puts the answer in the error's
// Reason, which reaches the host (swarmctl exec prints "backend "aws" does
// not support exec: <reason>"). Return "" to add nothing. It is called for
// undeclared capabilities only, possibly before Configure, so the reason
// must not depend on the configuration; it must not name secrets.
type UnsupportedReasoner interface {
	UnsupportedReason(c Capability) string
}

// Unsupported returns an UnsupportedError for backend and op.
func Unsupported(backend, op string) error {
	return &UnsupportedError{Backend: backend, Op: op}
}

// NotFoundError says the named thing does not exist on the backend.
type NotFoundError struct {
	What string
}

func (e *NotFoundError) Error() string { return e.What + " not found" }

// NotFound returns a NotFoundError; format names what was missing.
func NotFound(format string, args ...any) error {
	return &NotFoundError{What: fmt.Sprintf(format, args...)}
}

// InvalidConfigError says a configuration value is wrong. Path names the
// attribute, as in "tls.ca_file"; empty when the problem is not one attribute.
type InvalidConfigError struct {
	Path    string
	Message string
}

func (e *InvalidConfigError) Error() string {
	if e.Path == "" {
		return "invalid config: " + e.Message
	}
	return "invalid config: " + e.Path + ": " + e.Message
}

// InvalidConfig returns an InvalidConfigError at path.
func InvalidConfig(path, format string, args ...any) error {
	return &InvalidConfigError{Path: path, Message: fmt.Sprintf(format, args...)}
}

// InvalidRequestError says a request cannot be served as asked and the
// caller can fix it: a command the platform cannot run, an argument it
// cannot carry. The host answers it as a bad request with Message, which must
// therefore say what was wrong without internals or secrets.
type InvalidRequestError struct {
	Message string
}

func (e *InvalidRequestError) Error() string { return e.Message }

// InvalidRequest returns an InvalidRequestError.
func InvalidRequest(format string, args ...any) error {
	return &InvalidRequestError{Message: fmt.Sprintf(format, args...)}
}

// UnavailableError says the backend could not be reached or answered that it
// is busy. The operation is safe to retry, after RetryAfter when it is set.
type UnavailableError struct {
	Message    string
	RetryAfter time.Duration
}

func (e *UnavailableError) Error() string { return "unavailable: " + e.Message }

// Unavailable wraps err as retriable.
func Unavailable(err error) error {
	return &UnavailableError{Message: err.Error()}
}

// IsRetriable reports whether err says the operation may succeed if retried.
func IsRetriable(err error) bool {
	var u *UnavailableError
	return errors.As(err, &u)
}
