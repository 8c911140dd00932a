package pluginmgr

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/alphaswarm/controller/sdk"
)

// InstanceConfig names one configured backend instance, as in
// backend "compose" "local" { ... } (Plugin "compose", Name "local").
type InstanceConfig struct {
	Name   string
	Plugin string
	// Config is the instance's configuration as JSON.
	Config json.RawMessage
}

// Restart backoff after consecutive crashes: the first relaunch is
// immediate, then 250ms doubling up to 30s. A process that ran for a minute
// resets the count.
const (
	backoffBase  = 250 * time.Millisecond
	backoffMax   = 30 * time.Second
	stableUptime = time.Minute
)

// Instance is a running backend instance: one plugin process, relaunched
// after a crash.
type Instance struct {
	m      *Manager
	cfg    InstanceConfig
	plugin Plugin

	mu         sync.Mutex
	client     *sdk.Client
	lastUsed   time.Time
	startedAt  time.Time
	crashes    int
	nextLaunch time.Time
}

// key identifies an instance by name, plugin and configuration: the same
// name with another configuration is another process, never a process
// configured for someone else.
func (c InstanceConfig) key() string {
	sum := sha256.Sum256(append([]byte(c.Plugin+"\x00"), c.Config...))
	return c.Name + "#" + hex.EncodeToString(sum[:8])
}

// Start launches and configures an instance, or returns the running one of
// the same name, plugin and configuration.
func (m *Manager) Start(ctx context.Context, cfg InstanceConfig) (*Instance, error) {
	p, err := m.Plugin(cfg.Plugin)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil, fmt.Errorf("start backend %q: the plugin manager is closed", cfg.Name)
	}
	if inst, ok := m.instances[cfg.key()]; ok {
		m.mu.Unlock()
		return inst, nil
	}
	superseded := m.supersededLocked(cfg)
	if err := m.checkGroupLocked(cfg.Name); err != nil {
		m.mu.Unlock()
		stopAll(superseded)
		return nil, err
	}
	inst := &Instance{m: m, cfg: cfg, plugin: p}
	m.instances[cfg.key()] = inst
	m.mu.Unlock()
	stopAll(superseded)
	if _, err := inst.Client(ctx); err != nil {
		m.mu.Lock()
		delete(m.instances, cfg.key())
		m.mu.Unlock()
		return nil, err
	}
	return inst, nil
}

func (m *Manager) supersededIdle() time.Duration {
	if m.cfg.SupersededIdle <= 0 {
		return 10 * time.Minute
	}
	return m.cfg.SupersededIdle
}

// supersededLocked removes and returns the instances of cfg's name with
// another configuration that have been idle for SupersededIdle: a changed
// backend block must not leave its old processes running forever. The
// caller holds m.mu.
func (m *Manager) supersededLocked(cfg InstanceConfig) []*Instance {
	idle := m.supersededIdle()
	var out []*Instance
	for key, inst := range m.instances {
		if inst.cfg.Name != cfg.Name || key == cfg.key() {
			continue
		}
		inst.mu.Lock()
		unused := time.Since(inst.lastUsed) >= idle
		inst.mu.Unlock()
		if unused {
			delete(m.instances, key)
			out = append(out, inst)
		}
	}
	return out
}

func stopAll(instances []*Instance) {
	for _, inst := range instances {
		inst.stop()
	}
}

// checkGroupLocked refuses a new instance past MaxPerGroup instances of
// the name's group. The caller holds m.mu.
func (m *Manager) checkGroupLocked(name string) error {
	group, _, grouped := strings.Cut(name, "/")
	if !grouped {
		return nil
	}
	limit := m.cfg.MaxPerGroup
	if limit <= 0 {
		limit = 32
	}
	n := 0
	for _, inst := range m.instances {
		if g, _, ok := strings.Cut(inst.cfg.Name, "/"); ok && g == group {
			n++
		}
	}
	if n >= limit {
		return fmt.Errorf("start backend %q: %s already runs %d backend instances, the limit; unused configurations stop after %s idle", name, group, n, m.supersededIdle())
	}
	return nil
}

// Name returns the instance name.
func (i *Instance) Name() string { return i.cfg.Name }

// Client returns a live client, relaunching the plugin if it has exited.
// While a crashing plugin is backing off it returns an sdk.UnavailableError
// whose RetryAfter says when to try again.
func (i *Instance) Client(ctx context.Context) (*sdk.Client, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.lastUsed = time.Now()
	if i.client != nil && !i.client.Exited() {
		return i.client, nil
	}
	if i.client != nil {
		i.recordCrash()
	}
	if wait := time.Until(i.nextLaunch); wait > 0 {
		return nil, &sdk.UnavailableError{
			Message:    fmt.Sprintf("backend %q: plugin %q crashed %d times in a row; relaunching in %s", i.cfg.Name, i.plugin.Name, i.crashes, wait.Round(time.Millisecond)),
			RetryAfter: wait,
		}
	}
	c, err := i.launch(ctx)
	if err != nil {
		return nil, err
	}
	i.client, i.startedAt = c, time.Now()
	return c, nil
}

func (i *Instance) launch(ctx context.Context) (*sdk.Client, error) {
	c, _, err := i.m.launch(ctx, i.plugin, i.cfg.Name)
	if err != nil {
		return nil, err
	}
	if _, err := c.Configure(ctx, &sdk.ConfigureRequest{Instance: i.cfg.Name, Config: i.cfg.Config}); err != nil {
		c.Close()
		return nil, fmt.Errorf("configure backend %q: %w", i.cfg.Name, err)
	}
	return c, nil
}

// recordCrash notes that the current process died and schedules the next
// launch. The caller holds i.mu.
func (i *Instance) recordCrash() {
	uptime := time.Since(i.startedAt)
	if uptime >= stableUptime {
		i.crashes = 0
	}
	i.crashes++
	i.m.crashes.Add(1)
	delay := time.Duration(0)
	if i.crashes > 1 {
		delay = min(backoffBase<<(i.crashes-2), backoffMax)
	}
	i.nextLaunch = time.Now().Add(delay)
	i.m.logger.Warn("backend plugin exited unexpectedly", "backend", i.cfg.Name, "plugin", i.plugin.Name,
		"pid", i.client.Pid(), "uptime", uptime.Round(time.Millisecond), "crashes", i.crashes, "relaunch_in", delay)
	i.client.Close()
	i.client = nil
}

// Health pings the plugin process.
func (i *Instance) Health(ctx context.Context) error {
	c, err := i.Client(ctx)
	if err != nil {
		return err
	}
	return c.Ping(ctx)
}

func (i *Instance) stop() {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.client != nil {
		i.client.Close()
		i.client = nil
	}
}
