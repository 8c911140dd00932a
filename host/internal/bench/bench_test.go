package bench

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	hclog "github.com/hashicorp/go-hclog"
	plugin "github.com/hashicorp/go-plugin"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/host/internal/testbin"
	"github.com/alphaswarm/controller/host/internal/testplugins/plain/shared"
	"github.com/alphaswarm/controller/sdk"
	"github.com/alphaswarm/controller/sdk/pluginhost"
)

var memoryPlugin, plainPlugin string

func TestMain(m *testing.M) {
	flag.Parse()
	if flag.Lookup("test.bench").Value.String() == "" {
		os.Exit(m.Run()) // no benchmark asked for: nothing to build
	}
	tmp, err := os.MkdirTemp("", "bench-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	dir, err := testbin.PluginDir(tmp, false)
	if err == nil {
		plainPlugin = filepath.Join(tmp, "plain")
		err = testbin.Build(testbin.PlainPlugin, plainPlugin)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	memoryPlugin = filepath.Join(dir, "swarm-backend-memory")
	code := m.Run()
	os.RemoveAll(tmp)
	os.Exit(code)
}

// BenchmarkPluginLaunch measures launch + handshake + first call of the
// memory plugin through the SDK (mutual TLS, first call GetInfo) and of the
// plain plugin through go-plugin alone (no TLS, first call the health
// check). The two take turns, in alternating order, so that a busy machine
// slows both alike; each reports its median as <variant>_p50_ns. Teardown is
// not timed. go-plugin's own AutoMTLS, much slower, is measured on its own
// for reference.
func BenchmarkPluginLaunch(b *testing.B) {
	b.Run("sdk_vs_plain", func(b *testing.B) {
		var sdkMTLS, plain durations
		turn := 0
		for b.Loop() {
			if turn++; turn%2 == 0 {
				sdkMTLS.time(b, launchSDK)
				plain.time(b, func() (func(), error) { return launchPlain(false) })
			} else {
				plain.time(b, func() (func(), error) { return launchPlain(false) })
				sdkMTLS.time(b, launchSDK)
			}
		}
		sdkMTLS.report(b, "sdk_mtls")
		plain.report(b, "plain_goplugin")
	})
	b.Run("goplugin_automtls", func(b *testing.B) {
		var d durations
		for b.Loop() {
			d.time(b, func() (func(), error) { return launchPlain(true) })
		}
		d.report(b, "goplugin_automtls")
	})
}

func launchSDK() (func(), error) {
	c, err := pluginhost.Launch(context.Background(), pluginhost.LaunchConfig{Path: memoryPlugin})
	if err != nil {
		return nil, err
	}
	return c.Close, nil
}

// launchPlain launches the plain plugin with go-plugin alone and pings it.
func launchPlain(autoMTLS bool) (func(), error) {
	c := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  shared.Handshake,
		Plugins:          shared.Plugins,
		Cmd:              exec.Command(plainPlugin),
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		AutoMTLS:         autoMTLS,
		SkipHostEnv:      true,
		Logger:           hclog.NewNullLogger(),
	})
	rpc, err := c.Client()
	if err == nil {
		err = rpc.Ping()
	}
	if err != nil {
		c.Kill()
		return nil, err
	}
	return c.Kill, nil
}

// BenchmarkUnaryCall compares, call by call on the same mutual-TLS
// connection to the same plugin process, one small SDK call (NodeHealth, no
// payload) with a raw gRPC call (the health check go-plugin serves), and for
// reference an SDK call with a payload (Status of a one-service deployment).
func BenchmarkUnaryCall(b *testing.B) {
	ctx := context.Background()
	c, err := pluginhost.Launch(ctx, pluginhost.LaunchConfig{Path: memoryPlugin})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Configure(ctx, &sdk.ConfigureRequest{}); err != nil {
		b.Fatal(err)
	}
	spec := core.DeploymentSpec{Tenant: "bench", Environment: "dev", Name: "one",
		Services: []core.ServiceSpec{{Name: "api", Image: "bench/api:1", Replicas: 1}}}
	applied, err := c.Apply(ctx, &sdk.ApplyRequest{Deployment: spec}, nil)
	if err != nil {
		b.Fatal(err)
	}
	var small, raw, status durations
	for b.Loop() {
		small.call(b, func() error { _, err := c.NodeHealth(ctx, &sdk.NodeHealthRequest{}); return err })
		raw.call(b, func() error { return c.Ping(ctx) })
		status.call(b, func() error {
			_, err := c.Status(ctx, &sdk.StatusRequest{Deployment: spec.Ref(), State: applied.State})
			return err
		})
	}
	small.report(b, "sdk")
	raw.report(b, "raw_grpc")
	status.report(b, "sdk_status")
}

// durations collects one variant's timings.
type durations []time.Duration

// time times start and runs the teardown it returns outside the timing.
func (d *durations) time(b *testing.B, start func() (func(), error)) {
	b.Helper()
	t0 := time.Now()
	stop, err := start()
	*d = append(*d, time.Since(t0))
	if err != nil {
		b.Fatal(err)
	}
	stop()
}

func (d *durations) call(b *testing.B, call func() error) {
	b.Helper()
	t0 := time.Now()
	err := call()
	*d = append(*d, time.Since(t0))
	if err != nil {
		b.Fatal(err)
	}
}

// report adds the median as the metric <name>_p50_ns.
func (d durations) report(b *testing.B, name string) {
	s := slices.Clone(d)
	slices.Sort(s)
	b.ReportMetric(float64(s[len(s)/2].Nanoseconds()), name+"_p50_ns")
}
