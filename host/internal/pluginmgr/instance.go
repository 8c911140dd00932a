package pluginmgr

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/alphaswarm/controller/sdk"
	"github.com/alphaswarm/controller/sdk/pluginhost"
)

// Locking. The package's locks are Manager.mu (the instance table and the
// described infos), each Instance.mu (that instance's small fields) and
// hasher.mu (the hash cache). The rule:
//
//   - A goroutine holds at most one of them at a time. The manager reads
//     what it needs of an instance under m.mu through atomics (lastUsed,
//     active), never by taking the instance's lock.
//   - A lock is held only to read or write fields: never across a process
//     start, a handshake, a Configure or any other plugin call, a process
//     stop (Close/Kill), a log write or a wait on a channel.
//
// The slow work runs with no lock held: one caller launches an instance
// while later callers wait on the flight's done channel or their own ctx;
// stop marks the instance stopped and closes its client afterwards, and a
// launch that completes after a stop closes its fresh client itself.
// Manager.Check probes that the manager's and the instances' locks can
// still be taken.

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

// ErrStopped marks a call on an instance that was stopped: the manager was
// closed, or another configuration of the same name replaced it.
var ErrStopped = errors.New("its plugin instance was stopped (the host is shutting down or its configuration was replaced)")

// epoch is the origin of Instance.lastUsed: durations since it are
// monotonic, unlike wall-clock timestamps.
var epoch = time.Now()

// Instance is a running backend instance: one plugin process, relaunched
// after a crash.
type Instance struct {
	m      *Manager
	cfg    InstanceConfig
	plugin Plugin
	probe  prober // for Manager.Check

	// lastUsed is when Client was last called, in nanoseconds since epoch.
	lastUsed atomic.Int64
	// active counts the Client calls in progress, and Starts about to make
	// one: an active instance is never stopped as superseded.
	active atomic.Int32

	mu         sync.Mutex // guards the fields below, only while reading or writing them
	client     *pluginhost.Client
	startedAt  time.Time
	crashes    int
	nextLaunch time.Time
	launching  *flight // the launch in progress, or nil
	stopped    bool    // no launch may begin, and one ending closes its client
}

// flight is one launch of an instance's plugin, shared by the Client calls
// that arrive while it runs.
type flight struct {
	ctx    context.Context // the launch's: its caller's, also cancelled by stop
	cancel context.CancelFunc
	done   chan struct{} // closed once client and err are set

	client *pluginhost.Client
	err    error
	// abandoned says err came from the launching caller's context ending:
	// a waiter still willing to wait should launch again itself.
	abandoned bool
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
	for attempt := 1; ; attempt++ {
		inst, err := m.claim(cfg, p)
		if err != nil {
			return nil, err
		}
		_, err = inst.acquire(ctx)
		inst.active.Add(-1)
		if err == nil {
			return inst, nil
		}
		m.discard(inst)
		// An instance found stopped was being removed: start afresh,
		// unless the manager is closing.
		if !errors.Is(err, ErrStopped) || attempt == 3 || m.isClosed() {
			return nil, err
		}
	}
}

// claim returns the instance for cfg, new or running, counted active for
// the caller to decrement; it stops the instances cfg supersedes.
func (m *Manager) claim(cfg InstanceConfig, p Plugin) (*Instance, error) {
	m.mu.Lock()
	inst, superseded, err := m.claimLocked(cfg, p)
	m.mu.Unlock()
	stopAll(superseded)
	return inst, err
}

// claimLocked is claim's table work. The caller holds m.mu.
func (m *Manager) claimLocked(cfg InstanceConfig, p Plugin) (*Instance, []*Instance, error) {
	if m.closed {
		return nil, nil, fmt.Errorf("start backend %q: the plugin manager is closed", cfg.Name)
	}
	if inst, ok := m.instances[cfg.key()]; ok {
		inst.active.Add(1)
		return inst, nil, nil
	}
	superseded := m.supersededLocked(cfg)
	if err := m.checkGroupLocked(cfg.Name); err != nil {
		return nil, superseded, err
	}
	inst := &Instance{m: m, cfg: cfg, plugin: p}
	inst.active.Add(1)
	m.instances[cfg.key()] = inst
	return inst, superseded, nil
}

// discard removes an instance whose Start failed from the table, unless
// another caller is still launching or using it.
func (m *Manager) discard(inst *Instance) {
	if !inst.retire() {
		return
	}
	m.mu.Lock()
	if m.instances[inst.cfg.key()] == inst {
		delete(m.instances, inst.cfg.key())
	}
	m.mu.Unlock()
}

func (m *Manager) isClosed() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.closed
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
		if inst.active.Load() == 0 && inst.idleFor() >= idle {
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
// whose RetryAfter says when to try again. On a stopped instance it fails
// with ErrStopped. Concurrent calls share one launch; each gives up waiting
// for it when its own ctx ends.
func (i *Instance) Client(ctx context.Context) (*pluginhost.Client, error) {
	i.active.Add(1)
	defer i.active.Add(-1)
	return i.acquire(ctx)
}

// acquire is Client for a caller already counted in i.active.
func (i *Instance) acquire(ctx context.Context) (*pluginhost.Client, error) {
	i.lastUsed.Store(int64(time.Since(epoch)))
	for {
		c, f, mine, err := i.join(ctx)
		switch {
		case err != nil:
			return nil, err
		case c != nil:
			return c, nil
		case mine:
			return i.fly(f)
		}
		c, retry, err := i.await(ctx, f)
		if !retry {
			return c, err
		}
	}
}

// idleFor returns how long ago Client was last called.
func (i *Instance) idleFor() time.Duration {
	return time.Since(epoch) - time.Duration(i.lastUsed.Load())
}

// join decides how a Client call proceeds: with the live client c, with
// err, by waiting for the flight f, or by running f itself (mine).
func (i *Instance) join(ctx context.Context) (c *pluginhost.Client, f *flight, mine bool, err error) {
	var dead *crash
	i.mu.Lock()
	switch {
	case i.stopped:
		err = i.stoppedError()
	case i.client != nil && !i.client.Exited():
		c = i.client
	case i.launching != nil:
		f = i.launching
	default:
		dead = i.recordCrash()
		f, err = i.beginLaunchLocked(ctx)
		mine = f != nil
	}
	i.mu.Unlock()
	dead.report(i)
	return c, f, mine, err
}

func (i *Instance) stoppedError() error { return fmt.Errorf("backend %q: %w", i.cfg.Name, ErrStopped) }

// beginLaunchLocked records a new flight, unless the plugin is backing off
// after crashes. The caller holds i.mu.
func (i *Instance) beginLaunchLocked(ctx context.Context) (*flight, error) {
	if wait := time.Until(i.nextLaunch); wait > 0 {
		return nil, &sdk.UnavailableError{
			Message:    fmt.Sprintf("backend %q: plugin %q crashed %d times in a row; relaunching in %s", i.cfg.Name, i.plugin.Name, i.crashes, wait.Round(time.Millisecond)),
			RetryAfter: wait,
		}
	}
	lctx, cancel := context.WithCancel(ctx)
	i.launching = &flight{ctx: lctx, cancel: cancel, done: make(chan struct{})}
	return i.launching, nil
}

// fly runs the launch f, installs its client unless the instance was
// stopped meanwhile, and hands the outcome to the waiters.
func (i *Instance) fly(f *flight) (*pluginhost.Client, error) {
	c, err := i.launch(f.ctx)
	abandoned := err != nil && f.ctx.Err() != nil
	f.cancel()
	i.mu.Lock()
	i.launching = nil
	stopped := i.stopped
	if err == nil && !stopped {
		i.client, i.startedAt = c, time.Now()
	}
	i.mu.Unlock()
	if stopped {
		if c != nil {
			c.Close() // before done: Manager.Close waits for no orphan
		}
		c, err, abandoned = nil, i.stoppedError(), false
	}
	f.client, f.err, f.abandoned = c, err, abandoned
	close(f.done)
	return c, err
}

// await waits for another caller's flight f, or for ctx. It says retry when
// f failed only because its caller gave up while ctx is still alive.
func (i *Instance) await(ctx context.Context, f *flight) (c *pluginhost.Client, retry bool, err error) {
	select {
	case <-f.done:
	case <-ctx.Done():
		return nil, false, fmt.Errorf("wait for backend %q to launch: %w", i.cfg.Name, ctx.Err())
	}
	if f.abandoned && ctx.Err() == nil {
		return nil, true, nil
	}
	return f.client, false, f.err
}

func (i *Instance) launch(ctx context.Context) (*pluginhost.Client, error) {
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

// crash is what recordCrash saw, to log and clean up outside the lock.
type crash struct {
	client        *pluginhost.Client
	uptime, delay time.Duration
	crashes       int
}

// recordCrash notes that the current process, if any, died, schedules the
// next launch and returns the dead client for report. The caller holds i.mu.
func (i *Instance) recordCrash() *crash {
	if i.client == nil {
		return nil
	}
	uptime := time.Since(i.startedAt)
	if uptime >= stableUptime {
		i.crashes = 0
	}
	i.crashes++
	delay := time.Duration(0)
	if i.crashes > 1 {
		delay = min(backoffBase<<(i.crashes-2), backoffMax)
	}
	i.nextLaunch = time.Now().Add(delay)
	cr := &crash{client: i.client, uptime: uptime, delay: delay, crashes: i.crashes}
	i.client = nil
	return cr
}

// report counts and logs a crash and releases the dead client; a nil crash
// does nothing.
func (cr *crash) report(i *Instance) {
	if cr == nil {
		return
	}
	i.m.crashes.Add(1)
	i.m.logger.Warn("backend plugin exited unexpectedly", "backend", i.cfg.Name, "plugin", i.plugin.Name,
		"pid", cr.client.Pid(), "uptime", cr.uptime.Round(time.Millisecond), "crashes", cr.crashes, "relaunch_in", cr.delay)
	cr.client.Close()
}

// Health pings the plugin process.
func (i *Instance) Health(ctx context.Context) error {
	c, err := i.Client(ctx)
	if err != nil {
		return err
	}
	return c.Ping(ctx)
}

// stop marks the instance stopped, cancels its launch in flight and ends
// its process. It returns that flight, or nil, for Close to wait for.
func (i *Instance) stop() *flight {
	i.mu.Lock()
	i.stopped = true
	c, f := i.client, i.launching
	i.client = nil
	i.mu.Unlock()
	if f != nil {
		f.cancel()
	}
	if c != nil {
		c.Close()
	}
	return f
}

// wait returns once the flight, if any, has ended.
func (f *flight) wait() {
	if f != nil {
		<-f.done
	}
}

// retire stops the instance if nobody uses it: it has no client, no launch
// in flight and no Client call in progress. It reports whether the
// instance is stopped.
func (i *Instance) retire() bool {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.client == nil && i.launching == nil && i.active.Load() == 0 {
		i.stopped = true
	}
	return i.stopped
}
