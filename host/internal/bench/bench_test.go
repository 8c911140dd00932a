package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	hclog "github.com/hashicorp/go-hclog"
	plugin "github.com/hashicorp/go-plugin"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/host/internal/testbin"
	"github.com/alphaswarm/controller/host/internal/testplugins/plain/shared"
	"github.com/alphaswarm/controller/sdk"
)

var memoryPlugin, plainPlugin string

func TestMain(m *testing.M) {
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

// BenchmarkPluginLaunch measures launch + handshake + first call.
func BenchmarkPluginLaunch(b *testing.B) {
	b.Run("sdk_mtls", func(b *testing.B) {
		for b.Loop() {
			c, err := sdk.Launch(context.Background(), sdk.LaunchConfig{Path: memoryPlugin})
			if err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			c.Close()
			b.StartTimer()
		}
	})
	b.Run("plain_goplugin", func(b *testing.B) { benchPlain(b, false) })
	b.Run("goplugin_automtls", func(b *testing.B) { benchPlain(b, true) })
}

// benchPlain launches the plain plugin with go-plugin alone and pings it.
func benchPlain(b *testing.B, autoMTLS bool) {
	for b.Loop() {
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
		if err != nil {
			b.Fatal(err)
		}
		if err := rpc.Ping(); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		c.Kill()
		b.StartTimer()
	}
}

// BenchmarkUnaryCall compares one small SDK call (NodeHealth, no payload)
// with a raw gRPC call (the health check go-plugin serves) on the same
// mutual-TLS connection to the same plugin process. sdk_status is a call
// with a payload, Status of a one-service deployment, for reference.
func BenchmarkUnaryCall(b *testing.B) {
	ctx := context.Background()
	c, err := sdk.Launch(ctx, sdk.LaunchConfig{Path: memoryPlugin})
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
	calls := []struct {
		name string
		call func() error
	}{
		{"sdk", func() error { _, err := c.NodeHealth(ctx, &sdk.NodeHealthRequest{}); return err }},
		{"raw_grpc", func() error { return c.Ping(ctx) }},
		{"sdk_status", func() error {
			_, err := c.Status(ctx, &sdk.StatusRequest{Deployment: spec.Ref(), State: applied.State})
			return err
		}},
	}
	for _, bc := range calls {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if err := bc.call(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
