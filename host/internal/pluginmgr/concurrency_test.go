package pluginmgr

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/alphaswarm/controller/host/internal/stacks"
	"github.com/alphaswarm/controller/sdk"
)

// deadlockLimit bounds every call of these tests: generous, because it only
// turns a deadlock into a failure.
const deadlockLimit = time.Minute

// TestConcurrentStartsWithReplacingConfigsNeverDeadlock has many goroutines
// per tenant start, use and call instances of one name whose configurations
// differ in one attribute, each call its own, so that each new instance
// replaces the others as soon as they are idle. Every call ends; one that fails does so only because its
// instance was stopped; nothing is left waiting on a lock.
func TestConcurrentStartsWithReplacingConfigsNeverDeadlock(t *testing.T) {
	t.Parallel()
	m := New(Config{PluginDirs: []string{pluginDir}, StartTimeout: 10 * time.Second, SupersededIdle: time.Nanosecond, MaxPerGroup: 1000})
	t.Cleanup(func() { closeWithin(t, m) })
	const tenants, workers, iterations = 6, 8, 4
	var successes [tenants]atomic.Int64
	var stopped atomic.Int64
	var wg sync.WaitGroup
	for tenant := range tenants {
		for w := range workers {
			wg.Go(func() {
				for it := range iterations {
					cfg := InstanceConfig{Name: fmt.Sprintf("tenant%d/memory.sim", tenant), Plugin: "memory",
						Config: json.RawMessage(fmt.Sprintf(`{"log_interval": "%dms"}`, 50+w*iterations+it))}
					inst, err := validateOn(m, cfg)
					switch {
					case err == nil:
						successes[tenant].Add(1)
					case errors.Is(err, ErrStopped) || inst != nil && inst.isStopped():
						stopped.Add(1)
					default:
						t.Errorf("%s with %s: %v", cfg.Name, cfg.Config, err)
					}
				}
			})
		}
	}
	within(t, async(func() struct{} { wg.Wait(); return struct{}{} }), deadlockLimit, "the concurrent starts")
	launches, _ := m.Stats()
	t.Logf("calls: %d succeeded, %d on a stopped instance; %d launches", sum(successes[:]), stopped.Load(), launches)
	if total := int64(tenants * workers * iterations); 2*sum(successes[:]) < total {
		t.Errorf("only %d of %d calls succeeded", sum(successes[:]), total)
	}
	for tenant := range tenants {
		if successes[tenant].Load() == 0 {
			t.Errorf("tenant%d: no call succeeded", tenant)
		}
	}
	if stuck := stacks.StuckOnLocks("/host/internal/pluginmgr", 2*time.Second); len(stuck) > 0 {
		t.Fatalf("goroutines stuck on the package's locks:\n%s", strings.Join(stuck, "\n\n"))
	}
	if err := checkWithin(m, 10*time.Second); err != nil {
		t.Errorf("Check after the run: %v", err)
	}
}

// validateOn starts cfg's instance and makes a plugin call on it.
func validateOn(m *Manager, cfg InstanceConfig) (*Instance, error) {
	ctx, cancel := context.WithTimeout(context.Background(), deadlockLimit)
	defer cancel()
	inst, err := m.Start(ctx, cfg)
	if err != nil {
		return nil, err
	}
	c, err := inst.Client(ctx)
	if err != nil {
		return inst, err
	}
	_, err = c.Validate(ctx, &sdk.ValidateRequest{Deployment: testSpec})
	return inst, err
}

func sum(counts []atomic.Int64) int64 {
	var n int64
	for i := range counts {
		n += counts[i].Load()
	}
	return n
}

// closeWithin closes m, failing instead of hanging if a lock is stuck.
func closeWithin(t *testing.T, m *Manager) {
	within(t, async(func() struct{} { m.Close(); return struct{}{} }), deadlockLimit, "Close")
}

func checkWithin(m *Manager, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	return m.Check(ctx)
}

// TestStartAndCheckDoNotWaitForALaunchInFlight reproduces the shape of the
// old deadlock: a Start of a name while another configuration of it is
// launching (here one whose handshake never ends). The second Start and
// Check return while the first launch is still in flight, and a Start that
// joins that launch returns its own context's error when it gives up.
func TestStartAndCheckDoNotWaitForALaunchInFlight(t *testing.T) {
	t.Parallel()
	m := New(Config{PluginDirs: []string{pluginDir}, StartTimeout: 10 * time.Second})
	t.Cleanup(func() { closeWithin(t, m) })
	hanging := InstanceConfig{Name: "acme/memory.sim", Plugin: "hang"}
	first := async(func() error {
		_, err := m.Start(context.Background(), hanging)
		return err
	})
	slow := waitFor(t, func() *Instance { return launchingInstance(m, hanging) }, "the hanging launch to begin")
	stillLaunching := func(what string) {
		t.Helper()
		select {
		case err := <-first:
			t.Fatalf("the hanging launch ended (%v) before %s returned", err, what)
		default:
		}
	}

	second := async(func() error {
		_, err := m.Start(context.Background(), InstanceConfig{Name: hanging.Name, Plugin: "memory", Config: memoryConfig})
		return err
	})
	if err := within(t, second, deadlockLimit, "Start of another configuration"); err != nil {
		t.Fatalf("Start of another configuration: %v", err)
	}
	stillLaunching("Start of another configuration")
	if err := within(t, async(func() error { return checkWithin(m, 10*time.Second) }), deadlockLimit, "Check"); err != nil {
		t.Errorf("Check during a launch: %v", err)
	}
	stillLaunching("Check")

	ctx, cancel := context.WithCancel(context.Background())
	waiter := async(func() error {
		_, err := m.Start(ctx, hanging)
		return err
	})
	waitFor(t, func() *Instance { return ifTrue(slow, slow.active.Load() >= 2) }, "the second caller to join the launch")
	cancel()
	if err := within(t, waiter, deadlockLimit, "a waiter whose context was cancelled"); !errors.Is(err, context.Canceled) {
		t.Errorf("waiter with a cancelled context: %v, want context.Canceled", err)
	}
	stillLaunching("the cancelled waiter")
	if launchingInstance(m, hanging) != slow {
		t.Fatalf("the waiter's failure removed the instance whose launch is still in flight")
	}

	patient := async(func() error {
		_, err := slow.Client(context.Background())
		return err
	})
	waitFor(t, func() *Instance { return ifTrue(slow, slow.active.Load() >= 2) }, "a patient caller to join the launch")
	want := "did not complete the handshake"
	if err := within(t, first, deadlockLimit, "the hanging launch"); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("the hanging launch: %v, want %q", err, want)
	}
	if err := within(t, patient, deadlockLimit, "a caller waiting for the hanging launch"); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("a caller waiting for the hanging launch: %v, want its error %q", err, want)
	}
}

// TestWaiterLaunchesAgainWhenTheLauncherGivesUp cancels the context of the
// caller whose Start is launching an instance while another caller waits
// for that launch: the waiter, whose context is alive, gets a working
// client rather than the first caller's cancellation.
func TestWaiterLaunchesAgainWhenTheLauncherGivesUp(t *testing.T) {
	t.Parallel()
	m := New(Config{PluginDirs: []string{pluginDir}, StartTimeout: 10 * time.Second})
	t.Cleanup(func() { closeWithin(t, m) })
	cfg := InstanceConfig{Name: "acme/memory.sim", Plugin: "memory", Config: memoryConfig}
	ctx, cancel := context.WithCancel(context.Background())
	launcher := async(func() error {
		_, err := m.Start(ctx, cfg)
		return err
	})
	inst := waitFor(t, func() *Instance { return launchingInstance(m, cfg) }, "the launch to begin")
	waiter := async(func() error {
		c, err := inst.Client(context.Background())
		if err != nil {
			return err
		}
		return c.Ping(context.Background())
	})
	waitFor(t, func() *Instance { return ifTrue(inst, inst.active.Load() >= 2) }, "the waiter to join the launch")
	cancel()
	launcherErr := within(t, launcher, deadlockLimit, "the cancelled launcher")
	if err := within(t, waiter, deadlockLimit, "the waiter"); err != nil {
		t.Fatalf("the waiter inherited the launcher's failure: %v (launcher: %v)", err, launcherErr)
	}
	launches, _ := m.Stats()
	t.Logf("launcher: %v; %d launches", launcherErr, launches)
}

// launchingInstance returns cfg's instance if a launch of it is in flight.
func launchingInstance(m *Manager, cfg InstanceConfig) *Instance {
	m.mu.Lock()
	inst := m.instances[cfg.key()]
	m.mu.Unlock()
	if inst == nil {
		return nil
	}
	inst.mu.Lock()
	defer inst.mu.Unlock()
	return ifTrue(inst, inst.launching != nil)
}

func (i *Instance) isStopped() bool {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.stopped
}

func ifTrue[T any](v *T, cond bool) *T {
	if cond {
		return v
	}
	return nil
}

// waitFor polls get until it returns non-nil, failing after deadlockLimit.
func waitFor[T any](t *testing.T, get func() *T, what string) *T {
	t.Helper()
	deadline := time.Now().Add(deadlockLimit)
	for {
		if v := get(); v != nil {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s; goroutines:\n%s", what, stacks.All())
		}
		time.Sleep(time.Millisecond)
	}
}

// TestCheckReportsAStuckLock holds the manager's lock, then an instance's,
// as a deadlock would: Check names the lock, and calling it again and again
// keeps a single probe goroutine per lock. It does not run in parallel
// because it counts goroutines.
func TestCheckReportsAStuckLock(t *testing.T) {
	m := New(Config{PluginDirs: []string{pluginDir}, StartTimeout: 10 * time.Second})
	t.Cleanup(func() { closeWithin(t, m) })
	inst, err := m.Start(context.Background(), InstanceConfig{Name: "acme/memory.sim", Plugin: "memory", Config: memoryConfig})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		lock *sync.Mutex
		want string
	}{
		{&m.mu, "plugin manager: lock held for more than"},
		{&inst.mu, `backend "acme/memory.sim": instance lock held for more than`},
	} {
		tc.lock.Lock()
		before := runtime.NumGoroutine()
		for range 50 {
			if err := checkWithin(m, 5*time.Millisecond); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Check with a lock held: %v, want %q", err, tc.want)
			}
		}
		if probes := countStacks("pluginmgr.(*prober).run"); probes != 1 {
			t.Errorf("%d probe goroutines after 50 Checks of a stuck lock, want 1", probes)
		}
		if grown := runtime.NumGoroutine() - before; grown > 10 {
			t.Errorf("50 Checks of a stuck lock added %d goroutines", grown)
		}
		tc.lock.Unlock()
		if err := checkWithin(m, deadlockLimit); err != nil {
			t.Errorf("Check once the lock is free: %v", err)
		}
	}
}

func countStacks(frame string) int {
	n := 0
	for _, g := range stacks.Goroutines() {
		if strings.Contains(g, frame) {
			n++
		}
	}
	return n
}

// TestCloseDuringALaunchLeavesNoProcess closes the manager once a plugin
// process has started and before its launch is known to have ended: when
// Close returns the process is gone, and the instance refuses clients.
func TestCloseDuringALaunchLeavesNoProcess(t *testing.T) {
	t.Parallel()
	m, logs := newManager(t, nil)
	cfg := InstanceConfig{Name: "mid-launch", Plugin: "memory", Config: memoryConfig}
	started := async(func() error {
		_, err := m.Start(context.Background(), cfg)
		return err
	})
	inst := waitFor(t, func() *Instance { return launchingInstance(m, cfg) }, "the launch to begin")
	pid := *waitFor(t, func() *int { return startedPid(logs.String(), cfg.Name) }, "the plugin process to start")
	m.Close()
	switch err := within(t, started, deadlockLimit, "Start during Close"); {
	case err == nil:
		t.Logf("the launch completed before Close")
	case !errors.Is(err, ErrStopped) || !strings.Contains(err.Error(), `backend "mid-launch": its plugin instance was stopped`):
		t.Errorf("Start stopped mid-launch: %v, want ErrStopped naming the backend", err)
	}
	waitFor(t, func() *int { return ifTrue(&pid, errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)) }, fmt.Sprintf("plugin pid %d to end", pid))
	if _, err := inst.Client(context.Background()); !errors.Is(err, ErrStopped) {
		t.Errorf("Client after Close: %v, want ErrStopped", err)
	}
}

var startedLine = regexp.MustCompile(`(\S+): plugin started: .*pid=(\d+)`)

// startedPid returns the pid go-plugin logged when it started name's
// process, or nil.
func startedPid(logs, name string) *int {
	for _, m := range startedLine.FindAllStringSubmatch(logs, -1) {
		if m[1] == name {
			pid, _ := strconv.Atoi(m[2])
			return &pid
		}
	}
	return nil
}
