package sdk

import (
	"context"
	"errors"

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
		badRequest  *InvalidRequestError
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
	case errors.As(err, &badRequest):
		code, detail.Kind = codes.InvalidArgument, "invalid_request"
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
