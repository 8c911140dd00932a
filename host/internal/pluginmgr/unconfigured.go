package pluginmgr

import (
	"context"

	"github.com/alphaswarm/controller/sdk/pluginhost"
)

// LaunchUnconfigured verifies and starts a process of p that is never
// configured, for offline checks (ValidateConfig, and Validate handed a
// configuration): swarmctl validate and the host's start use it. The
// process gets an empty environment, whatever the manager's Config.Env, so
// that nothing in it can find a backend's address or credentials. It is
// not an instance: the caller closes it.
func (m *Manager) LaunchUnconfigured(ctx context.Context, p Plugin) (*pluginhost.Client, error) {
	c, _, err := m.launchWith(ctx, p, p.Name, nil)
	return c, err
}
