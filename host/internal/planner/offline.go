package planner

import (
	"context"
	"fmt"

	"github.com/hashicorp/hcl/v2"

	"github.com/alphaswarm/controller/host/internal/pluginmgr"
	"github.com/alphaswarm/controller/host/internal/topology"
	"github.com/alphaswarm/controller/sdk"
	"github.com/alphaswarm/controller/sdk/pluginhost"
)

// CheckOffline loads dir and checks it as terraform validate does: each
// backend block against its plugin's schema and the plugin's own offline
// checks (ValidateConfig), each deployment against core's rules and its
// plugin's Validate, handed the block's configuration. No plugin is
// configured and no backend is reached: one process per plugin runs
// unconfigured, with an empty environment, and ends before CheckOffline
// returns. A plugin that cannot check offline (built before
// ValidateConfig) gets a warning: its block is checked against its schema
// alone, and its own checks wait for plan.
func CheckOffline(ctx context.Context, dir string, vals topology.Values, m *pluginmgr.Manager) (*Session, hcl.Diagnostics) {
	t, diags := topology.Load(dir, vals)
	if diags.HasErrors() {
		return &Session{Topology: t}, diags
	}
	s, d := CheckTopology(ctx, t, m, Options{Offline: true})
	return s, append(diags, d...)
}

// offlineClients are the unconfigured plugin processes of an offline check:
// one per plugin, shared by its backend blocks, since every call carries
// the configuration it checks.
type offlineClients struct {
	byPlugin  map[string]*pluginhost.Client
	byBackend map[string]*pluginhost.Client // blocks whose deployments the plugin checks
}

func (o *offlineClients) close() {
	for _, c := range o.byPlugin {
		c.Close()
	}
	o.byPlugin, o.byBackend = nil, nil
}

// client returns the unconfigured process of plugin name, launching it
// the first time.
func (o *offlineClients) client(ctx context.Context, m *pluginmgr.Manager, name string) (*pluginhost.Client, error) {
	if c := o.byPlugin[name]; c != nil {
		return c, nil
	}
	p, err := m.Plugin(name)
	if err != nil {
		return nil, err
	}
	c, err := m.LaunchUnconfigured(ctx, p)
	if err != nil {
		return nil, err
	}
	if o.byPlugin == nil {
		o.byPlugin, o.byBackend = map[string]*pluginhost.Client{}, map[string]*pluginhost.Client{}
	}
	o.byPlugin[name] = c
	return c, nil
}

// checkBackendOffline checks a backend block against its plugin's schema
// and the plugin's ValidateConfig.
func (s *Session) checkBackendOffline(ctx context.Context, b *topology.Backend, m *pluginmgr.Manager) hcl.Diagnostics {
	if _, err := m.Plugin(b.Type); err != nil {
		return hcl.Diagnostics{{Severity: hcl.DiagWarning, Summary: "Backend plugin not installed",
			Detail:  fmt.Sprintf("No %q plugin was found (%v), so backend %q was checked by the language alone. Install swarm-backend-%s to check its configuration and its deployments.", b.Type, err, b.ID(), b.Type),
			Subject: b.DeclRange.Ptr()}}
	}
	c, err := s.offline.client(ctx, m, b.Type)
	if err != nil {
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Backend plugin failed", Detail: err.Error() + ".", Subject: b.DeclRange.Ptr()}}
	}
	config, diags := b.DecodeConfig(c.Info().ConfigSchema)
	if diags.HasErrors() {
		return diags
	}
	s.configs[b.ID()] = config
	resp, err := c.ValidateConfig(ctx, &sdk.ValidateConfigRequest{Instance: b.ID(), Config: config})
	if err != nil {
		return append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Backend plugin failed", Detail: err.Error() + ".", Subject: b.DeclRange.Ptr()})
	}
	var found hcl.Diagnostics
	for _, d := range resp.Diagnostics {
		found = append(found, topology.ConfigDiagnostic(b.Type, b.Body, b.DeclRange, d))
	}
	if c.Info().OfflineValidation && !found.HasErrors() {
		s.offline.byBackend[b.ID()] = c
	}
	return append(diags, found...)
}

// validateOffline has the deployment's plugin check it against its
// backend block's configuration, on the unconfigured process.
func (s *Session) validateOffline(ctx context.Context, d *topology.Deployment) hcl.Diagnostics {
	id := d.Backend.ID()
	c := s.offline.byBackend[id]
	if c == nil {
		return nil // not installed, a configuration with errors, or a plugin that cannot check offline: said already
	}
	resp, err := c.Validate(ctx, &sdk.ValidateRequest{Deployment: d.Spec, Instance: id, Config: s.configs[id]})
	if err != nil {
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Backend plugin failed", Detail: err.Error() + ".", Subject: d.DeclRange.Ptr()}}
	}
	var diags hcl.Diagnostics
	for _, pd := range resp.Diagnostics {
		diags = append(diags, pluginDiag(d, d.Backend.Type, pd))
	}
	return diags
}
