package pluginhost

import (
	"context"
	"errors"
	"fmt"

	"github.com/alphaswarm/controller/sdk"
	pb "github.com/alphaswarm/controller/sdk/internal/backendv1"
)

// Info is what the host knows of a running plugin: what the backend said of
// itself (sdk.InfoResponse) plus what its SDK determined, the negotiated
// protocol and the capabilities the backend declares.
type Info struct {
	Name         string           `json:"name"`
	Version      string           `json:"version"`
	Description  string           `json:"description,omitempty"`
	Protocol     int              `json:"protocol"`
	Capabilities sdk.Capabilities `json:"capabilities"`
	ConfigSchema sdk.Schema       `json:"config_schema"`
	// OfflineValidation says the plugin checks its configuration and
	// deployments without being configured (ValidateConfig, Validate with
	// a configuration). False for a plugin built before protocol 1 had it,
	// or whose backend does not implement sdk.ConfigValidator.
	OfflineValidation bool `json:"offline_validation"`
}

func (c *Client) loadInfo(ctx context.Context, negotiated int) error {
	resp, err := c.rpc.GetInfo(ctx, &pb.GetInfo_Request{})
	if err != nil {
		return fmt.Errorf("read info: %w", errorFromStatus(err))
	}
	schema, err := schemaFromPB(resp.GetConfigSchema())
	if err != nil {
		return fmt.Errorf("read info: %w", err)
	}
	if resp.GetName() == "" {
		return errors.New("read info: the plugin did not give its name")
	}
	if int(resp.GetProtocolVersion()) != negotiated {
		return fmt.Errorf("read info: plugin says protocol %d but negotiated %d", resp.GetProtocolVersion(), negotiated)
	}
	caps := make(sdk.Capabilities, 0, len(resp.GetCapabilities()))
	for _, s := range resp.GetCapabilities() {
		caps = append(caps, sdk.Capability(s))
	}
	c.info = Info{
		Name: resp.GetName(), Version: resp.GetVersion(), Description: resp.GetDescription(),
		Protocol: negotiated, Capabilities: caps, ConfigSchema: schema,
		OfflineValidation: resp.GetOfflineValidation(),
	}
	return nil
}
