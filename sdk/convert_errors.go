package sdk

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/alphaswarm/controller/core"
	pb "github.com/alphaswarm/controller/sdk/internal/backendv1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// errorToStatus turns a backend's error into a gRPC status whose details keep
// the typed error's fields.
func errorToStatus(err error) error {
	if err == nil {
		return nil
	}
	var (
		unsupported *UnsupportedError
		notFound    *NotFoundError
		invalid     *InvalidConfigError
		unavailable *UnavailableError
	)
	var code codes.Code
	detail := &pb.ErrorDetail{Message: err.Error()}
	switch {
	case errors.As(err, &unsupported):
		code, detail.Kind, detail.Backend, detail.Op, detail.Message = codes.Unimplemented, "unsupported", unsupported.Backend, unsupported.Op, unsupported.Reason
	case errors.As(err, &notFound):
		code, detail.Kind, detail.Message = codes.NotFound, "not_found", notFound.What
	case errors.As(err, &invalid):
		code, detail.Kind, detail.Path, detail.Message = codes.InvalidArgument, "invalid_config", invalid.Path, invalid.Message
	case errors.As(err, &unavailable):
		code, detail.Kind, detail.Message = codes.Unavailable, "unavailable", unavailable.Message
		detail.RetryAfterMs = unavailable.RetryAfter.Milliseconds()
	case errors.As(err, new(core.ValidationError)):
		return status.Error(codes.InvalidArgument, err.Error())
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, err.Error())
	default:
		return status.Error(codes.Internal, err.Error())
	}
	st, derr := status.New(code, err.Error()).WithDetails(detail)
	if derr != nil {
		return status.Error(code, err.Error())
	}
	return st.Err()
}

// errorFromStatus turns a gRPC error back into the typed error it carried. A
// transport failure (the plugin died, the connection broke) becomes an
// UnavailableError, so the caller knows a retry is safe.
func errorFromStatus(err error) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	for _, d := range st.Details() {
		if detail, ok := d.(*pb.ErrorDetail); ok {
			if typed := typedError(detail); typed != nil {
				return typed
			}
		}
	}
	switch st.Code() {
	case codes.Canceled:
		return fmt.Errorf("%s: %w", st.Message(), context.Canceled)
	case codes.DeadlineExceeded:
		return fmt.Errorf("%s: %w", st.Message(), context.DeadlineExceeded)
	case codes.Unavailable:
		return &UnavailableError{Message: st.Message()}
	case codes.ResourceExhausted:
		return fmt.Errorf("message over the size limit: %s", st.Message())
	}
	return errors.New(st.Message())
}

func typedError(d *pb.ErrorDetail) error {
	switch d.GetKind() {
	case "unsupported":
		u := &UnsupportedError{Backend: d.GetBackend(), Op: d.GetOp()}
		if msg := d.GetMessage(); msg != u.Error() { // older plugins sent the whole text
			u.Reason = msg
		}
		return u
	case "not_found":
		return &NotFoundError{What: d.GetMessage()}
	case "invalid_config":
		return &InvalidConfigError{Path: d.GetPath(), Message: d.GetMessage()}
	case "unavailable":
		return &UnavailableError{
			Message:    d.GetMessage(),
			RetryAfter: time.Duration(d.GetRetryAfterMs()) * time.Millisecond,
		}
	}
	return nil
}
