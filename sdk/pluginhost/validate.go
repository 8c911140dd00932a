package pluginhost

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/alphaswarm/controller/sdk"
	pb "github.com/alphaswarm/controller/sdk/internal/backendv1"
)

// SkippedSummary is the summary of the warning ValidateConfig returns for a
// plugin that does not check its configuration offline.
const SkippedSummary = "Offline checks skipped"

// ValidateConfig checks a backend instance's configuration offline, on a
// plugin process that need not be configured (and should not be: launch it
// with no environment). req.Unknown names the attributes whose values the
// host does not know yet, such as credentials; req.Config holds a
// placeholder of the attribute's type at each.
//
// Problems are diagnostics whose Path names the attribute. A plugin that
// does not check offline (built before ValidateConfig, or whose backend
// does not implement sdk.ConfigValidator) is not asked: the answer is one
// warning saying that its own checks were skipped, for the caller to show
// beside its check against the schema.
func (c *Client) ValidateConfig(ctx context.Context, req *sdk.ValidateConfigRequest) (*sdk.ValidateConfigResponse, error) {
	if !c.info.OfflineValidation {
		return &sdk.ValidateConfigResponse{Diagnostics: []sdk.Diagnostic{{
			Severity: sdk.SeverityWarning, Summary: SkippedSummary,
			Detail: fmt.Sprintf("The %s plugin (version %s) does not check its configuration or deployments offline: "+
				"it predates ValidateConfig in protocol %d, or does not implement sdk.ConfigValidator. "+
				"They were checked against its schema only; its own checks run when plan configures it.",
				c.info.Name, c.info.Version, c.info.Protocol),
		}}}, nil
	}
	cfg := req.Config
	if cfg == nil {
		cfg = json.RawMessage("{}")
	}
	resp, err := c.rpc.ValidateConfig(ctx, &pb.ValidateConfig_Request{
		Instance: req.Instance, ConfigJson: cfg, Unknown: req.Unknown,
	})
	if err != nil {
		return nil, c.fail("validate config", err)
	}
	return &sdk.ValidateConfigResponse{Diagnostics: diagnosticsFromPB(resp.GetDiagnostics())}, nil
}
