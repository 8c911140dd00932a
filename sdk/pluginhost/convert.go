package pluginhost

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/alphaswarm/controller/sdk"
	pb "github.com/alphaswarm/controller/sdk/internal/backendv1"
)

// The client side's conversions of sdk types from the wire. Their
// counterparts to the wire are in package sdk, beside its server.

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
		return &sdk.UnavailableError{Message: st.Message()}
	case codes.InvalidArgument: // core's validation, the SDK server's own checks, older plugins
		return &sdk.InvalidRequestError{Message: st.Message()}
	case codes.ResourceExhausted:
		return fmt.Errorf("message over the size limit: %s", st.Message())
	}
	return errors.New(st.Message())
}

func typedError(d *pb.ErrorDetail) error {
	switch d.GetKind() {
	case "unsupported":
		u := &sdk.UnsupportedError{Backend: d.GetBackend(), Op: d.GetOp()}
		if msg := d.GetMessage(); msg != u.Error() { // older plugins sent the whole text
			u.Reason = msg
		}
		return u
	case "not_found":
		return &sdk.NotFoundError{What: d.GetMessage()}
	case "invalid_config":
		return &sdk.InvalidConfigError{Path: d.GetPath(), Message: d.GetMessage()}
	case "invalid_request":
		return &sdk.InvalidRequestError{Message: d.GetMessage()}
	case "unavailable":
		return &sdk.UnavailableError{
			Message:    d.GetMessage(),
			RetryAfter: time.Duration(d.GetRetryAfterMs()) * time.Millisecond,
		}
	}
	return nil
}

func diagnosticsFromPB(ds []*pb.Diagnostic) []sdk.Diagnostic {
	out := make([]sdk.Diagnostic, len(ds))
	for i, d := range ds {
		out[i] = sdk.Diagnostic{Severity: sdk.Severity(d.GetSeverity()), Summary: d.GetSummary(), Detail: d.GetDetail(), Path: d.GetPath()}
	}
	return out
}

func planFromPB(p *pb.Plan_Response) *sdk.PlanResponse {
	out := &sdk.PlanResponse{}
	for _, pc := range p.GetServices() {
		c := sdk.ServiceChange{Service: pc.GetService(), Action: sdk.Action(pc.GetAction())}
		for _, f := range pc.GetFields() {
			c.Fields = append(c.Fields, sdk.FieldChange{Path: f.GetPath(), Before: f.GetBefore(), After: f.GetAfter()})
		}
		out.Services = append(out.Services, c)
	}
	for _, n := range p.GetCompatibility() {
		out.Compatibility = append(out.Compatibility, sdk.CompatibilityNote{
			Service: n.GetService(), Field: n.GetField(), Level: sdk.CompatLevel(n.GetLevel()), Detail: n.GetDetail(),
		})
	}
	return out
}

func schemaFromPB(s *pb.Schema) (sdk.Schema, error) {
	var out sdk.Schema
	for _, pa := range s.GetAttributes() {
		a := sdk.Attribute{
			Name: pa.GetName(), Type: sdk.Type(pa.GetType()), Description: pa.GetDescription(),
			Required: pa.GetRequired(), Sensitive: pa.GetSensitive(), TenantSettable: pa.GetTenantSettable(),
		}
		if len(pa.GetDefaultJson()) > 0 {
			if err := json.Unmarshal(pa.GetDefaultJson(), &a.Default); err != nil {
				return sdk.Schema{}, fmt.Errorf("decode default of %q: %w", a.Name, err)
			}
		}
		out.Attributes = append(out.Attributes, a)
	}
	for _, pbk := range s.GetBlocks() {
		inner, err := schemaFromPB(pbk.GetSchema())
		if err != nil {
			return sdk.Schema{}, err
		}
		out.Blocks = append(out.Blocks, sdk.Block{
			Name: pbk.GetName(), Description: pbk.GetDescription(), Nesting: sdk.Nesting(pbk.GetNesting()),
			MinItems: int(pbk.GetMinItems()), MaxItems: int(pbk.GetMaxItems()), Schema: inner,
		})
	}
	return out, nil
}
