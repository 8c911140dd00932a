package backends

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/alphaswarm/controller/host/internal/topology"
	"github.com/alphaswarm/controller/sdk"
	"github.com/alphaswarm/controller/sdk/pluginhost"
)

// unknownValue stands in, in what a plugin checks offline, for a
// credential's value, which only configuring an instance resolves.
const unknownValue = "(credential, resolved when an instance is configured)"

// validateConfig has the plugin c check a backend's configuration offline,
// each credential reference replaced by unknownValue and listed as
// unknown. The plugin's diagnostics point at the attributes in the file.
func (r *Registry) validateConfig(ctx context.Context, c *pluginhost.Client, b *Backend, config json.RawMessage) hcl.Diagnostics {
	placeheld, unknown, err := r.withUnknowns(config)
	if err != nil {
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid backend configuration",
			Detail: fmt.Sprintf("Backend %s: %v.", b.ID(), err), Subject: b.DeclRange.Ptr()}}
	}
	resp, err := c.ValidateConfig(ctx, &sdk.ValidateConfigRequest{Instance: b.ID(), Config: placeheld, Unknown: unknown})
	if err != nil {
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Backend plugin failed",
			Detail: fmt.Sprintf("Backend %s: %v.", b.ID(), err), Subject: b.DeclRange.Ptr()}}
	}
	var diags hcl.Diagnostics
	for _, d := range resp.Diagnostics {
		diags = append(diags, topology.ConfigDiagnostic(b.Type, b.body, b.DeclRange, d))
	}
	return diags
}

// withUnknowns replaces each credential reference of a decoded
// configuration with unknownValue and returns their attribute paths,
// spelled as sdk.Unknown has them ("kubeconfig_data", "tls.key_file",
// "fault[1].op").
func (r *Registry) withUnknowns(config json.RawMessage) (json.RawMessage, sdk.Unknown, error) {
	var v any
	if err := json.Unmarshal(config, &v); err != nil {
		return nil, nil, fmt.Errorf("read the decoded configuration: %w", err)
	}
	var unknown sdk.Unknown
	var walk func(v any, path string) any
	walk = func(v any, path string) any {
		switch t := v.(type) {
		case string:
			if strings.HasPrefix(t, r.marker) {
				unknown = append(unknown, path)
				return unknownValue
			}
		case []any:
			for i := range t {
				t[i] = walk(t[i], fmt.Sprintf("%s[%d]", path, i))
			}
		case map[string]any:
			for k := range t {
				p := k
				if path != "" {
					p = path + "." + k
				}
				t[k] = walk(t[k], p)
			}
		}
		return v
	}
	v = walk(v, "")
	slices.Sort(unknown)
	out, err := json.Marshal(v)
	if err != nil {
		return nil, nil, fmt.Errorf("encode the configuration: %w", err)
	}
	return out, unknown, nil
}
