package memory

import (
	"context"
	"encoding/json"
	"time"

	"github.com/alphaswarm/controller/sdk"
)

// Interface guard: the simulator checks its configuration offline.
var _ sdk.ConfigValidator = (*Backend)(nil)

// parseConfig decodes and checks a configuration. Configure and
// ValidateConfig both call it, so that validate accepts what Configure
// accepts; it skips the values that are unknown, and reaches nothing.
func parseConfig(raw json.RawMessage, unknown sdk.Unknown) (config, error) {
	var c config
	if err := sdk.DecodeConfig(raw, &c); err != nil {
		return c, err
	}
	var err error
	if !unknown.Has("latency") {
		if c.latency, err = time.ParseDuration(c.Latency); err != nil {
			return c, sdk.InvalidConfig("latency", "%q is not a duration such as \"50ms\"", c.Latency)
		}
	}
	if !unknown.Has("log_interval") {
		if c.logInterval, err = time.ParseDuration(c.LogInterval); err != nil || c.logInterval <= 0 {
			return c, sdk.InvalidConfig("log_interval", "%q is not a positive duration such as \"1s\"", c.LogInterval)
		}
	}
	return c, nil
}

// ValidateConfig checks a configuration offline, with parseConfig.
func (b *Backend) ValidateConfig(_ context.Context, req *sdk.ValidateConfigRequest) (*sdk.ValidateConfigResponse, error) {
	_, err := parseConfig(req.Config, req.Unknown)
	return &sdk.ValidateConfigResponse{}, err
}
