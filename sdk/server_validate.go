package sdk

import (
	"context"
	"errors"

	pb "github.com/alphaswarm/controller/sdk/internal/backendv1"
)

// offline reports whether the backend checks configurations and deployments
// without being configured, which GetInfo declares.
func (s *server) offline() bool {
	_, ok := s.impl.(ConfigValidator)
	return ok
}

// ValidateConfig checks a configuration against the schema and, when the
// backend implements ConfigValidator, against the backend's own checks.
// Problems are diagnostics; an error means the check could not run.
func (s *server) ValidateConfig(ctx context.Context, req *pb.ValidateConfig_Request) (*pb.ValidateConfig_Response, error) {
	cfg, err := s.info.ConfigSchema.Normalize(req.GetConfigJson())
	var invalid *InvalidConfigError
	switch {
	case errors.As(err, &invalid):
		d := Diagnostic{Severity: SeverityError, Summary: invalid.Message, Path: invalid.Path}
		return &pb.ValidateConfig_Response{Diagnostics: diagnosticsToPB([]Diagnostic{d})}, nil
	case err != nil:
		return nil, errorToStatus(err)
	}
	v, ok := s.impl.(ConfigValidator)
	if !ok {
		return &pb.ValidateConfig_Response{}, nil
	}
	diags, err := configDiagnostics(v.ValidateConfig(ctx, &ValidateConfigRequest{
		Instance: req.GetInstance(), Config: cfg, Unknown: Unknown(req.GetUnknown()),
	}))
	if err != nil {
		return nil, errorToStatus(err)
	}
	return &pb.ValidateConfig_Response{Diagnostics: diagnosticsToPB(diags)}, nil
}
