package pluginmgr

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	hclog "github.com/hashicorp/go-hclog"

	"github.com/alphaswarm/controller/sdk/pluginhost"
)

// Config configures a Manager.
type Config struct {
	// PluginDirs are scanned in order for plugin binaries.
	PluginDirs []string
	// Lock is the parsed lock file; nil means there is none, and every
	// plugin runs unverified ("unlocked").
	Lock *LockFile
	// Env is the whole environment every plugin process gets.
	Env []string
	// Logger receives the manager's and the plugins' log lines.
	Logger hclog.Logger
	// StartTimeout bounds each plugin's handshake.
	StartTimeout time.Duration
	// SupersededIdle is how long an instance must have gone unused before
	// it is stopped once another configuration of the same name replaced
	// it (default 10m); operations begun on it meanwhile finish on it.
	SupersededIdle time.Duration
	// MaxPerGroup bounds the instances whose names share the part before
	// the first "/" (the host names instances "<tenant>/<backend>"), so one
	// tenant cannot make the host run processes without end (default 32).
	MaxPerGroup int
}

// Manager launches and supervises plugin processes. It is safe for
// concurrent use.
type Manager struct {
	cfg      Config
	plugins  []Plugin
	problems []error
	hashes   hasher
	logger   hclog.Logger
	probe    prober // for Check

	mu        sync.Mutex                 // see the locking rule in instance.go
	infos     map[string]pluginhost.Info // by binary hash
	instances map[string]*Instance
	closed    bool

	launches, crashes atomic.Int64
}

// New discovers the plugins in cfg.PluginDirs.
func New(cfg Config) *Manager {
	if cfg.Logger == nil {
		cfg.Logger = hclog.NewNullLogger()
	}
	plugins, problems := Discover(cfg.PluginDirs)
	return &Manager{
		cfg: cfg, plugins: plugins, problems: problems, logger: cfg.Logger,
		infos: map[string]pluginhost.Info{}, instances: map[string]*Instance{},
	}
}

// Plugins returns the plugins found, one per name, sorted by name.
func (m *Manager) Plugins() []Plugin { return slices.Clone(m.plugins) }

// Problems returns what discovery could not use.
func (m *Manager) Problems() []error { return slices.Clone(m.problems) }

// Stats counts plugin launches and crashes since the manager started.
func (m *Manager) Stats() (launches, crashes int64) { return m.launches.Load(), m.crashes.Load() }

// Plugin returns the plugin called name.
func (m *Manager) Plugin(name string) (Plugin, error) {
	for _, p := range m.plugins {
		if p.Name == name {
			return p, nil
		}
	}
	names := make([]string, len(m.plugins))
	for i, p := range m.plugins {
		names[i] = p.Name
	}
	return Plugin{}, fmt.Errorf("find plugin %q: not in %v (found: %v)", name, m.cfg.PluginDirs, names)
}

// HashStatus says how a binary relates to the lock file.
type HashStatus string

// The hash statuses.
const (
	HashLocked   HashStatus = "locked"   // listed in the lock file
	HashUnlocked HashStatus = "unlocked" // there is no lock file
	HashMismatch HashStatus = "mismatch" // differs from the lock file
	HashMissing  HashStatus = "not-in-lock-file"
)

// ErrRefused marks a plugin the lock file does not allow to run.
var ErrRefused = errors.New("plugin refused")

// Verify hashes p's binary and checks it against the lock file. A refusal
// wraps ErrRefused and names the plugin, the expected and the actual hash.
func (m *Manager) Verify(p Plugin) (string, HashStatus, error) {
	sum, err := m.hashes.sum(p.Path)
	if err != nil {
		return "", "", fmt.Errorf("verify plugin %q: %w", p.Name, err)
	}
	if m.cfg.Lock == nil {
		return sum, HashUnlocked, nil
	}
	locked := m.cfg.Lock.Find(p.Name)
	switch {
	case locked == nil:
		return sum, HashMissing, fmt.Errorf("%w: plugin %q (%s) is not in the lock file; run \"swarmctl plugins lock\" to add it",
			ErrRefused, p.Name, p.Path)
	case !slices.Contains(locked.Hashes, sum):
		return sum, HashMismatch, fmt.Errorf("%w: plugin %q (%s) does not match the lock file: expected %s, binary is %s",
			ErrRefused, p.Name, p.Path, joinHashes(locked.Hashes), sum)
	}
	return sum, HashLocked, nil
}

func joinHashes(hs []string) string {
	if len(hs) == 1 {
		return hs[0]
	}
	return fmt.Sprintf("one of %v", hs)
}

// launch verifies and starts p, named name in logs and errors, with the
// environment of the manager's configuration.
func (m *Manager) launch(ctx context.Context, p Plugin, name string) (*pluginhost.Client, string, error) {
	return m.launchWith(ctx, p, name, m.cfg.Env)
}

// launchWith is launch with the environment env.
func (m *Manager) launchWith(ctx context.Context, p Plugin, name string, env []string) (*pluginhost.Client, string, error) {
	sum, _, err := m.Verify(p)
	if err != nil {
		return nil, "", err
	}
	m.launches.Add(1)
	c, err := pluginhost.Launch(ctx, pluginhost.LaunchConfig{
		Name: name, Path: p.Path, Env: env, Logger: m.logger, StartTimeout: m.cfg.StartTimeout,
	})
	if err != nil {
		return nil, "", err
	}
	if got := c.Info().Name; got != p.Name {
		c.Close()
		return nil, "", fmt.Errorf("launch plugin %q: binary %s says it is %q; rename it or fix its Info", name, p.Path, got)
	}
	m.mu.Lock()
	m.infos[sum] = c.Info()
	m.mu.Unlock()
	return c, sum, nil
}

// Describe returns p's Info, launching it only if this binary has not been
// described before.
func (m *Manager) Describe(ctx context.Context, p Plugin) (pluginhost.Info, error) {
	sum, _, err := m.Verify(p)
	if err != nil {
		return pluginhost.Info{}, err
	}
	m.mu.Lock()
	info, ok := m.infos[sum]
	m.mu.Unlock()
	if ok {
		return info, nil
	}
	c, _, err := m.launch(ctx, p, p.Name)
	if err != nil {
		return pluginhost.Info{}, err
	}
	defer c.Close()
	return c.Info(), nil
}

// Close stops every plugin process, waiting for launches in flight to end
// so that none leaves a process behind. Instances cannot be started
// afterwards.
func (m *Manager) Close() {
	m.mu.Lock()
	m.closed = true
	instances := make([]*Instance, 0, len(m.instances))
	for _, inst := range m.instances {
		instances = append(instances, inst)
	}
	m.instances = map[string]*Instance{}
	m.mu.Unlock()
	var wg sync.WaitGroup
	for _, inst := range instances {
		wg.Go(func() { inst.stop().wait() })
	}
	wg.Wait()
}

// Instance returns a running instance called name, or nil.
func (m *Manager) Instance(name string) *Instance {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, inst := range m.instances {
		if inst.cfg.Name == name {
			return inst
		}
	}
	return nil
}
