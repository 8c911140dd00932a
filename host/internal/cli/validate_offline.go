package cli

import (
	"context"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/alphaswarm/controller/host/internal/planner"
	"github.com/alphaswarm/controller/host/internal/pluginmgr"
	"github.com/alphaswarm/controller/host/internal/topology"
)

// checkOffline loads and checks the topology in dir as validate does,
// offline: the caller's plugins run unconfigured, with an empty
// environment (none of the caller's credentials), and no backend is
// reached. plan is where a plugin connects (check).
func (f *topologyFlags) checkOffline(ctx context.Context, dir string) (*planner.Session, *pluginmgr.Manager, hcl.Diagnostics) {
	lock, err := pluginmgr.ReadLockFile(f.plugins.lockFile)
	if err != nil {
		return &planner.Session{Topology: &topology.Topology{}}, nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid lock file", Detail: err.Error()}}
	}
	m := pluginmgr.New(pluginmgr.Config{PluginDirs: f.plugins.pluginDirs(), Lock: lock, Env: nil, StartTimeout: 10 * time.Second})
	s, diags := planner.CheckOffline(ctx, dir, f.values(), m)
	return s, m, diags
}
