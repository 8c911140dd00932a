package cli

import (
	"context"
	"flag"
	"os"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/alphaswarm/controller/host/internal/planner"
	"github.com/alphaswarm/controller/host/internal/pluginmgr"
	"github.com/alphaswarm/controller/host/internal/topology"
)

// topologyFlags are the flags of the commands that read a topology.
type topologyFlags struct {
	plugins  pluginFlags
	vars     stringList
	varFiles stringList
	asJSON   bool
}

func (f *topologyFlags) register(fs *flag.FlagSet) {
	f.plugins.register(fs)
	fs.Var(&f.vars, "var", "set a variable, as name=value (repeatable)")
	fs.Var(&f.varFiles, "var-file", "read variables from a file of name = value lines (repeatable)")
	fs.BoolVar(&f.asJSON, "json", false, "print as JSON")
}

func (f *topologyFlags) values() topology.Values {
	return topology.Values{Environ: os.Environ(), Files: f.varFiles, Args: f.vars}
}

// dirArg is the one optional DIR argument, "." by default.
func dirArg(pos []string) string {
	if len(pos) == 0 {
		return "."
	}
	return pos[0]
}

// check loads and checks the topology in dir with the caller's plugins,
// launched with the caller's own backend credentials.
func (f *topologyFlags) check(ctx context.Context, dir string) (*planner.Session, *pluginmgr.Manager, hcl.Diagnostics) {
	lock, err := pluginmgr.ReadLockFile(f.plugins.lockFile)
	if err != nil {
		return &planner.Session{Topology: &topology.Topology{}}, nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid lock file", Detail: err.Error()}}
	}
	m := pluginmgr.New(pluginmgr.Config{PluginDirs: f.plugins.pluginDirs(), Lock: lock,
		Env: pluginmgr.CredentialEnv(os.Environ()), StartTimeout: 10 * time.Second})
	s, diags := planner.Check(ctx, dir, f.values(), m)
	return s, m, diags
}
