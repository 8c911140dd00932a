package pluginmgr

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	hclog "github.com/hashicorp/go-hclog"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/host/internal/testbin"
	"github.com/alphaswarm/controller/sdk"
	"github.com/alphaswarm/controller/sdk/pluginhost"
)

// pluginDir holds the memory plugin and every bad plugin, built by TestMain.
var pluginDir string

func TestMain(m *testing.M) {
	tmp, err := os.MkdirTemp("", "pluginmgr-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	pluginDir, err = testbin.PluginDir(tmp, true)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(tmp)
	os.Exit(code)
}

func newManager(t *testing.T, lock *LockFile) (*Manager, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	m := New(Config{
		PluginDirs: []string{pluginDir}, Lock: lock, StartTimeout: 3 * time.Second,
		Logger: hclog.New(&hclog.LoggerOptions{Level: hclog.Debug, Output: logs}),
	})
	t.Cleanup(m.Close)
	return m, logs
}

var memoryConfig = json.RawMessage(`{"log_interval": "50ms"}`)

var testSpec = core.DeploymentSpec{Tenant: "acme", Environment: "dev", Name: "shop",
	Services: []core.ServiceSpec{{Name: "api", Image: "shop/api:1", Replicas: 2}}}

// TestBadPluginsFailClearlyAndOthersKeepServing launches each misbehaving
// binary beside a healthy memory backend: each fails with an error naming it
// and the cause, and the memory backend keeps answering throughout.
func TestBadPluginsFailClearlyAndOthersKeepServing(t *testing.T) {
	m, _ := newManager(t, nil)
	ctx := context.Background()
	good, err := m.Start(ctx, InstanceConfig{Name: "good", Plugin: "memory", Config: memoryConfig})
	if err != nil {
		t.Fatalf("start memory: %v", err)
	}
	want := map[string]string{
		"badcookie":  "exited before the handshake",
		"badversion": "protocol version this host does not",
		"crash":      "simulated crash before the handshake",
		"junk":       "Hello! I am not a plugin",
		"hang":       "did not complete the handshake within 3s",
		"oversize":   "message over the size limit",
		"malformed":  "unmarshal",
		"misnamed":   `says it is "somebody-else"`,
	}
	var wg sync.WaitGroup
	for _, mode := range testbin.BadModes {
		wg.Go(func() {
			name := "inst-" + mode
			_, err := m.Start(ctx, InstanceConfig{Name: name, Plugin: mode})
			switch {
			case err == nil:
				t.Errorf("%s: started without error", mode)
			case !strings.Contains(err.Error(), `"`+name+`"`) || !strings.Contains(err.Error(), want[mode]):
				t.Errorf("%s: error %q should name %q and say %q", mode, err, name, want[mode])
			}
		})
	}
	wg.Wait()
	c, err := good.Client(ctx)
	if err != nil {
		t.Fatalf("memory backend after the bad ones: %v", err)
	}
	if _, err := c.Apply(ctx, &sdk.ApplyRequest{Deployment: testSpec}, nil); err != nil {
		t.Errorf("memory backend stopped serving: %v", err)
	}
}

func TestLockFileRefusesChangedBinary(t *testing.T) {
	m, _ := newManager(t, nil)
	p, err := m.Plugin("memory")
	if err != nil {
		t.Fatal(err)
	}
	sum, status, err := m.Verify(p)
	if err != nil || status != HashUnlocked {
		t.Fatalf("without a lock file: %s, %v; want unlocked", status, err)
	}
	wrong := "sha256:" + strings.Repeat("0", 64)
	locked, _ := newManager(t, &LockFile{Plugins: []LockedPlugin{{Name: "memory", Hashes: []string{wrong}}}})
	_, err = locked.Start(context.Background(), InstanceConfig{Name: "m", Plugin: "memory", Config: memoryConfig})
	if !errors.Is(err, ErrRefused) {
		t.Fatalf("start with a wrong hash: %v, want ErrRefused", err)
	}
	for _, want := range []string{`"memory"`, wrong, sum} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("refusal %q does not name %s", err, want)
		}
	}
	ok, _ := newManager(t, &LockFile{Plugins: []LockedPlugin{{Name: "memory", Hashes: []string{sum}}}})
	if _, err := ok.Start(context.Background(), InstanceConfig{Name: "m", Plugin: "memory", Config: memoryConfig}); err != nil {
		t.Errorf("start with the right hash: %v", err)
	}
	other, _ := newManager(t, &LockFile{Plugins: []LockedPlugin{{Name: "compose", Hashes: []string{wrong}}}})
	if _, status, err := other.Verify(p); status != HashMissing || !errors.Is(err, ErrRefused) {
		t.Errorf("a plugin missing from an existing lock file: %s, %v; want refused", status, err)
	}
}

// TestCrashedPluginIsRelaunchedWithBackoff kills the plugin with SIGKILL:
// the next call relaunches it and, the plugin being stateless, sees the
// deployment through the stored state. A second crash right away backs off.
func TestCrashedPluginIsRelaunchedWithBackoff(t *testing.T) {
	m, logs := newManager(t, nil)
	ctx := context.Background()
	inst, err := m.Start(ctx, InstanceConfig{Name: "crashy", Plugin: "memory", Config: memoryConfig})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := inst.Client(ctx)
	applied, err := c.Apply(ctx, &sdk.ApplyRequest{Deployment: testSpec}, nil)
	if err != nil {
		t.Fatal(err)
	}
	firstPid := c.Pid()
	kill(t, c)

	c2, err := inst.Client(ctx)
	if err != nil {
		t.Fatalf("first relaunch after a crash should be immediate: %v", err)
	}
	if c2.Pid() == firstPid || c2.Pid() == 0 {
		t.Fatalf("relaunch kept pid %d", c2.Pid())
	}
	st, err := c2.Status(ctx, &sdk.StatusRequest{Deployment: testSpec.Ref(), State: applied.State})
	if err != nil || st.Status.Health != core.HealthReady {
		t.Fatalf("status after relaunch: %+v, %v", st, err)
	}

	kill(t, c2)
	_, err = inst.Client(ctx)
	var unavailable *sdk.UnavailableError
	if !errors.As(err, &unavailable) || unavailable.RetryAfter <= 0 {
		t.Fatalf("second crash in a row: got %v, want Unavailable with a RetryAfter", err)
	}
	time.Sleep(unavailable.RetryAfter)
	if _, err := inst.Client(ctx); err != nil {
		t.Fatalf("relaunch after the backoff: %v", err)
	}
	if _, crashes := m.Stats(); crashes != 2 {
		t.Errorf("crashes counted: %d, want 2", crashes)
	}
	if !strings.Contains(logs.String(), "backend plugin exited unexpectedly") {
		t.Errorf("the crash was not logged")
	}
}

func kill(t *testing.T, c *pluginhost.Client) {
	t.Helper()
	if err := syscall.Kill(c.Pid(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !c.Exited() {
		if time.Now().After(deadline) {
			t.Fatal("plugin did not exit after SIGKILL")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestPluginLogsCarryTheInstanceName(t *testing.T) {
	m, logs := newManager(t, nil)
	inst, err := m.Start(context.Background(), InstanceConfig{Name: "named-instance", Plugin: "memory", Config: memoryConfig})
	if err != nil {
		t.Fatal(err)
	}
	if err := inst.Health(context.Background()); err != nil {
		t.Fatalf("health: %v", err)
	}
	// go-plugin's server logs its address at debug level from the plugin
	// process; the host must show it under the instance's name.
	var found bool
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, "plugin address") && strings.Contains(line, "named-instance") {
			found = true
		}
	}
	if !found {
		t.Errorf("no plugin log line under the instance name in:\n%s", logs.String())
	}
}

func TestCloseStopsEveryPlugin(t *testing.T) {
	m, _ := newManager(t, nil)
	var pids []int
	for _, name := range []string{"a", "b"} {
		inst, err := m.Start(context.Background(), InstanceConfig{Name: name, Plugin: "memory", Config: memoryConfig})
		if err != nil {
			t.Fatal(err)
		}
		c, _ := inst.Client(context.Background())
		pids = append(pids, c.Pid())
	}
	m.Close()
	for _, pid := range pids {
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("plugin pid %d still exists after Close (%v)", pid, err)
		}
	}
	if _, err := m.Start(context.Background(), InstanceConfig{Name: "late", Plugin: "memory"}); err == nil {
		t.Errorf("Start after Close succeeded")
	}
}

func TestConfigureErrorNamesInstanceAndAttribute(t *testing.T) {
	m, _ := newManager(t, nil)
	_, err := m.Start(context.Background(), InstanceConfig{Name: "cfg", Plugin: "memory", Config: json.RawMessage(`{"latency": 5}`)})
	var invalid *sdk.InvalidConfigError
	if !errors.As(err, &invalid) || invalid.Path != "latency" || !strings.Contains(err.Error(), `"cfg"`) {
		t.Errorf("got %v, want an InvalidConfigError at latency naming backend cfg", err)
	}
}

// syncBuffer is a bytes.Buffer safe for the logger's concurrent writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestChangedConfigurationStopsTheIdleOldProcess starts an instance with
// one configuration, then another of the same name: the old process keeps
// serving while recently used, and stops once idle past SupersededIdle.
func TestChangedConfigurationStopsTheIdleOldProcess(t *testing.T) {
	m := New(Config{PluginDirs: []string{pluginDir}, StartTimeout: 3 * time.Second, SupersededIdle: 300 * time.Millisecond})
	t.Cleanup(m.Close)
	ctx := context.Background()
	start := func(config string) int {
		t.Helper()
		inst, err := m.Start(ctx, InstanceConfig{Name: "acme/memory.sim", Plugin: "memory", Config: json.RawMessage(config)})
		if err != nil {
			t.Fatal(err)
		}
		c, err := inst.Client(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return c.Pid()
	}
	old := start(`{"latency": "1ms"}`)
	if start(`{"latency": "2ms"}`) == old {
		t.Fatal("another configuration reused the old process")
	}
	if err := syscall.Kill(old, 0); err != nil {
		t.Fatalf("the recently used old process was stopped: %v", err)
	}
	time.Sleep(400 * time.Millisecond)
	start(`{"latency": "3ms"}`)
	if err := syscall.Kill(old, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("the idle superseded process %d still runs (%v)", old, err)
	}
}

// TestInstancesPerGroupAreBounded refuses a tenant's instance past the
// limit, naming it, while other tenants still start theirs.
func TestInstancesPerGroupAreBounded(t *testing.T) {
	m := New(Config{PluginDirs: []string{pluginDir}, StartTimeout: 3 * time.Second, MaxPerGroup: 2})
	t.Cleanup(m.Close)
	ctx := context.Background()
	start := func(name, latency string) error {
		_, err := m.Start(ctx, InstanceConfig{Name: name, Plugin: "memory", Config: json.RawMessage(`{"latency": "` + latency + `"}`)})
		return err
	}
	for _, name := range []string{"acme/memory.a", "acme/memory.b"} {
		if err := start(name, "1ms"); err != nil {
			t.Fatal(err)
		}
	}
	if err := start("acme/memory.c", "1ms"); err == nil || !strings.Contains(err.Error(), "acme already runs 2 backend instances, the limit") {
		t.Errorf("a third instance of acme: %v", err)
	}
	if err := start("globex/memory.a", "1ms"); err != nil {
		t.Errorf("another tenant's instance: %v", err)
	}
	if err := start("acme/memory.a", "1ms"); err != nil {
		t.Errorf("an instance acme runs already: %v", err)
	}
}
