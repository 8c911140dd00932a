package compose_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"golang.org/x/sync/errgroup"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/sdk"
	"github.com/alphaswarm/controller/sdk/backendtest"
	"github.com/alphaswarm/controller/sdk/pluginhost"
)

// BenchmarkComposeApply measures applying a 10-service deployment through
// the plugin (a launched binary, over mutual TLS) against creating and
// starting the same 10 containers on a network directly with the Docker
// client, one after the other (docker_direct) and, for reference, all at
// once (docker_direct_parallel; the plugin converges independent services in
// parallel too). The variants take turns in each iteration; each reports its
// median as <variant>_p50_ns. Teardown is not timed.
func BenchmarkComposeApply(b *testing.B) {
	ctx := context.Background()
	c, err := pluginhost.Launch(ctx, pluginhost.LaunchConfig{Path: backendtest.Binary(b, pluginPackage)})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Configure(ctx, &sdk.ConfigureRequest{Config: json.RawMessage(`{"project_prefix": "bench", "stop_timeout": "1s"}`)}); err != nil {
		b.Fatal(err)
	}
	var plugin, direct, parallel []time.Duration
	for i := 0; b.Loop(); i++ {
		spec := tenServices(fmt.Sprintf("b%d-%d", time.Now().Unix()%100000, i))
		t0 := time.Now()
		if _, err := c.Apply(ctx, &sdk.ApplyRequest{Deployment: spec}, nil); err != nil {
			b.Fatal(err)
		}
		plugin = append(plugin, time.Since(t0))
		if _, err := c.Destroy(ctx, &sdk.DestroyRequest{Deployment: spec.Ref(), RemoveData: true}); err != nil {
			b.Fatal(err)
		}

		for _, v := range []struct {
			parallel bool
			into     *[]time.Duration
		}{{false, &direct}, {true, &parallel}} {
			project := fmt.Sprintf("direct-%d-%d-%v", time.Now().Unix()%100000, i, v.parallel)
			t0 = time.Now()
			createDirectly(b, project, spec.Services, v.parallel)
			*v.into = append(*v.into, time.Since(t0))
			removeDirectly(b, project)
		}
	}
	report(b, "compose_apply", plugin)
	report(b, "docker_direct", direct)
	report(b, "docker_direct_parallel", parallel)
}

func tenServices(name string) core.DeploymentSpec {
	spec := core.DeploymentSpec{Tenant: "acme", Environment: "bench", Name: name}
	for i := range 10 {
		spec.Services = append(spec.Services, core.ServiceSpec{
			Name: fmt.Sprintf("svc%d", i), Image: echoV1, Replicas: 1,
			Env:   map[string]string{"LOG_INTERVAL": "1s"},
			Ports: []core.Port{{Name: "http", Container: 8080, Protocol: core.ProtocolTCP}},
		})
	}
	return spec
}

// createDirectly does by hand what an apply of services amounts to: a
// network, then each container created and started on it, one after the
// other or all at once.
func createDirectly(b *testing.B, project string, services []core.ServiceSpec, parallel bool) {
	ctx := context.Background()
	labels := map[string]string{"com.docker.compose.project": project}
	if _, err := docker.NetworkCreate(ctx, project+"_default", network.CreateOptions{Driver: "bridge", Labels: labels}); err != nil {
		b.Fatal(err)
	}
	run := func(s core.ServiceSpec) error {
		created, err := docker.ContainerCreate(ctx,
			&container.Config{Image: s.Image, Env: []string{"LOG_INTERVAL=1s"}, Labels: labels},
			&container.HostConfig{RestartPolicy: container.RestartPolicy{Name: container.RestartPolicyUnlessStopped}},
			&network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{project + "_default": {Aliases: []string{s.Name}}}},
			nil, project+"-"+s.Name+"-1")
		if err != nil {
			return err
		}
		return docker.ContainerStart(ctx, created.ID, container.StartOptions{})
	}
	var g errgroup.Group
	if !parallel {
		g.SetLimit(1)
	}
	for _, s := range services {
		g.Go(func() error { return run(s) })
	}
	if err := g.Wait(); err != nil {
		b.Fatal(err)
	}
}

func removeDirectly(b *testing.B, project string) {
	ctx := context.Background()
	byProject := filters.NewArgs(filters.Arg("label", "com.docker.compose.project="+project))
	list, err := docker.ContainerList(ctx, container.ListOptions{All: true, Filters: byProject})
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range list {
		docker.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true})
	}
	if err := docker.NetworkRemove(ctx, project+"_default"); err != nil {
		b.Fatal(err)
	}
}

func report(b *testing.B, name string, d []time.Duration) {
	s := slices.Clone(d)
	slices.Sort(s)
	b.ReportMetric(float64(s[len(s)/2].Nanoseconds()), name+"_p50_ns")
}
