// Package planner checks a topology against the plugins of its backends and
// plans it: each backend block is decoded against its plugin's schema and
// configures a plugin process, each deployment is validated by its
// backend's plugin, and Plan asks each plugin what it would change.
// CheckOffline checks the same without configuring a plugin or reaching a
// backend, as swarmctl validate does. Diagnostics from plugins are pointed
// back at the topology source.
package planner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/host/internal/pluginmgr"
	"github.com/alphaswarm/controller/host/internal/topology"
	"github.com/alphaswarm/controller/sdk"
	"github.com/alphaswarm/controller/sdk/pluginhost"
)

// Session is a loaded topology with a running plugin per backend block.
type Session struct {
	Topology *topology.Topology
	opts     Options
	clients  map[string]*pluginhost.Client // by backend ID
	configs  map[string]json.RawMessage    // decoded backend blocks, by backend ID
	offline  offlineClients                // with Options.Offline, instead of clients
}

// Options adjust a session for the API, which plans on behalf of a tenant.
type Options struct {
	// PriorState returns the stored state of a deployment, for plans made
	// against what the host already applied; nil plans from nothing.
	PriorState func(core.DeploymentRef) []byte
	// UsedBackendsOnly starts plugins only for the backend blocks some
	// deployment uses, as the API does: a file of backend blocks alone
	// starts nothing. The others get a warning.
	UsedBackendsOnly bool
	// Registered, when set, makes a backend block a reference to a backend
	// an operator registered, as the controller has it: it returns the
	// plugin instance to run, and the part of the configuration the block
	// itself sets, which is what jobs carry; diagnostics say what the
	// block may not set or refer to. Without it, the block is the whole
	// configuration (swarmctl plan -local).
	Registered func(ctx context.Context, b *topology.Backend, schema sdk.Schema) (pluginmgr.InstanceConfig, json.RawMessage, hcl.Diagnostics)
	// Offline checks without configuring a plugin or reaching a backend,
	// as swarmctl validate does (see CheckOffline). Such a session cannot
	// plan. Registered is not consulted: the blocks are whole
	// configurations.
	Offline bool
}

// Check loads dir, configures a plugin instance per backend block, and has
// each plugin validate its deployments. A backend whose plugin is not
// installed is a warning: its block and deployments are checked by the
// language alone.
func Check(ctx context.Context, dir string, vals topology.Values, m *pluginmgr.Manager) (*Session, hcl.Diagnostics) {
	t, diags := topology.Load(dir, vals)
	if diags.HasErrors() {
		return &Session{Topology: t}, diags
	}
	s, d := CheckTopology(ctx, t, m, Options{})
	return s, append(diags, d...)
}

// CheckTopology is Check for a topology loaded already.
func CheckTopology(ctx context.Context, t *topology.Topology, m *pluginmgr.Manager, opts Options) (*Session, hcl.Diagnostics) {
	s := &Session{Topology: t, opts: opts, clients: map[string]*pluginhost.Client{}, configs: map[string]json.RawMessage{}}
	var diags hcl.Diagnostics
	used := map[string]bool{}
	for _, d := range t.Deployments {
		if d.Backend != nil {
			used[d.Backend.ID()] = true
		}
	}
	for _, b := range t.Backends {
		if opts.UsedBackendsOnly && !used[b.ID()] {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "Backend not used",
				Detail: fmt.Sprintf("No deployment uses backend %q, so its plugin was not started and its configuration was not checked.", b.ID()), Subject: b.DeclRange.Ptr()})
			continue
		}
		if opts.Offline {
			diags = append(diags, s.checkBackendOffline(ctx, b, m)...)
			continue
		}
		diags = append(diags, s.startBackend(ctx, b, m)...)
	}
	for _, d := range t.Deployments {
		diags = append(diags, s.validate(ctx, d)...)
	}
	s.offline.close()
	return s, diags
}

// BackendConfig returns the decoded configuration of a backend block, or
// nil when its plugin is not installed.
func (s *Session) BackendConfig(id string) json.RawMessage { return s.configs[id] }

// configure returns the plugin instance of a backend block, and the
// configuration the block sets.
func (s *Session) configure(ctx context.Context, b *topology.Backend, schema sdk.Schema) (pluginmgr.InstanceConfig, json.RawMessage, hcl.Diagnostics) {
	if s.opts.Registered != nil {
		return s.opts.Registered(ctx, b, schema)
	}
	config, diags := b.DecodeConfig(schema)
	return pluginmgr.InstanceConfig{Name: b.ID(), Plugin: b.Type, Config: config}, config, diags
}

func (s *Session) startBackend(ctx context.Context, b *topology.Backend, m *pluginmgr.Manager) hcl.Diagnostics {
	p, err := m.Plugin(b.Type)
	if err != nil {
		return hcl.Diagnostics{{Severity: hcl.DiagWarning, Summary: "Backend plugin not installed",
			Detail:  fmt.Sprintf("No %q plugin was found (%v), so backend %q was checked by the language alone. Install swarm-backend-%s to check its configuration and plan its deployments.", b.Type, err, b.ID(), b.Type),
			Subject: b.DeclRange.Ptr()}}
	}
	info, err := m.Describe(ctx, p)
	if err != nil {
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Backend plugin failed", Detail: err.Error() + ".", Subject: b.DeclRange.Ptr()}}
	}
	cfg, config, diags := s.configure(ctx, b, info.ConfigSchema)
	if diags.HasErrors() {
		return diags
	}
	s.configs[b.ID()] = config
	inst, err := m.Start(ctx, cfg)
	if err != nil {
		var invalid *sdk.InvalidConfigError
		if errors.As(err, &invalid) {
			rng := b.ConfigRange(invalid.Path)
			return append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid backend configuration",
				Detail: fmt.Sprintf("The %s plugin rejects %s: %s.", b.Type, orBlock(invalid.Path), invalid.Message), Subject: &rng})
		}
		return append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Backend plugin failed", Detail: err.Error() + ".", Subject: b.DeclRange.Ptr()})
	}
	c, err := inst.Client(ctx)
	if err != nil {
		return append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Backend plugin failed", Detail: err.Error() + ".", Subject: b.DeclRange.Ptr()})
	}
	s.clients[b.ID()] = c
	return diags
}

func orBlock(path string) string {
	if path == "" {
		return "the block"
	}
	return path
}

// validate asks the deployment's plugin what it cannot run.
func (s *Session) validate(ctx context.Context, d *topology.Deployment) hcl.Diagnostics {
	if d.Backend == nil {
		return nil
	}
	if s.opts.Offline {
		return s.validateOffline(ctx, d)
	}
	c := s.clients[d.Backend.ID()]
	if c == nil {
		return nil
	}
	resp, err := c.Validate(ctx, &sdk.ValidateRequest{Deployment: d.Spec})
	if err != nil {
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Backend plugin failed", Detail: err.Error() + ".", Subject: d.DeclRange.Ptr()}}
	}
	var diags hcl.Diagnostics
	for _, pd := range resp.Diagnostics {
		diags = append(diags, pluginDiag(d, d.Backend.Type, pd))
	}
	return diags
}

// pluginDiag points a plugin's diagnostic at the field it names.
func pluginDiag(d *topology.Deployment, plugin string, pd sdk.Diagnostic) *hcl.Diagnostic {
	sev := hcl.DiagError
	if pd.Severity == sdk.SeverityWarning {
		sev = hcl.DiagWarning
	}
	rng := d.Range(pd.Path)
	detail := pd.Detail
	if detail == "" {
		detail = fmt.Sprintf("Reported by the %s backend.", plugin)
	} else {
		detail = fmt.Sprintf("%s (reported by the %s backend)", detail, plugin)
	}
	return &hcl.Diagnostic{Severity: sev, Summary: capitalize(pd.Summary), Detail: detail, Subject: &rng}
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
