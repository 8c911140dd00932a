package gcp_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	run "cloud.google.com/go/run/apiv2"
	"cloud.google.com/go/run/apiv2/runpb"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/sdk"
	"github.com/alphaswarm/controller/sdk/backendtest"
	"github.com/alphaswarm/controller/sdk/pluginhost"
)

// BenchmarkGCPApply measures applying a 10-service deployment through the
// plugin (a launched binary, over mutual TLS) until every Cloud Run
// service is ready, against creating the same services directly with the
// Run client, side by side, polling their operations at the plugin's pace.
// Both run against the same fake in the same run, taking turns in each
// iteration; each reports its median as <variant>_p50_ns. Teardown is not
// timed.
func BenchmarkGCPApply(b *testing.B) {
	ctx := context.Background()
	plugin, err := pluginhost.Launch(ctx, pluginhost.LaunchConfig{Path: backendtest.Binary(b, pluginPackage)})
	if err != nil {
		b.Fatal(err)
	}
	defer plugin.Close()
	info := plugin.Info()
	cfg, err := info.ConfigSchema.Normalize(config(nil))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := plugin.Configure(ctx, &sdk.ConfigureRequest{Config: cfg}); err != nil {
		b.Fatal(err)
	}
	client, err := run.NewServicesClient(ctx, option.WithEndpoint(fake.Addr()), option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())), option.WithTelemetryDisabled())
	if err != nil {
		b.Fatal(err)
	}
	defer client.Close()
	var viaPlugin, direct []time.Duration
	for i := 0; b.Loop(); i++ {
		spec := tenServices(fmt.Sprintf("b%d-%d", time.Now().Unix()%100000, i))
		t0 := time.Now()
		if _, err := plugin.Apply(ctx, &sdk.ApplyRequest{Deployment: spec}, nil); err != nil {
			b.Fatal(err)
		}
		viaPlugin = append(viaPlugin, time.Since(t0))
		if _, err := plugin.Destroy(ctx, &sdk.DestroyRequest{Deployment: spec.Ref()}); err != nil {
			b.Fatal(err)
		}
		prefix := fmt.Sprintf("direct-%d-%d", time.Now().Unix()%100000, i)
		t0 = time.Now()
		names := createDirectly(b, client, prefix, spec.Services)
		direct = append(direct, time.Since(t0))
		for _, n := range names {
			client.DeleteService(ctx, &runpb.DeleteServiceRequest{Name: n}) // the fake finishes it by itself
		}
	}
	report(b, "gcp_apply", viaPlugin)
	report(b, "run_direct", direct)
}

func tenServices(name string) core.DeploymentSpec {
	spec := core.DeploymentSpec{Tenant: "bench", Environment: "gcp", Name: name}
	for i := range 10 {
		svc := testService("")
		svc.Name, svc.Replicas = fmt.Sprintf("svc%d", i), 2
		spec.Services = append(spec.Services, svc)
	}
	return spec
}

// createDirectly creates what the plugin creates, with the Run client
// alone, and polls each operation until done as the plugin does.
func createDirectly(b *testing.B, client *run.ServicesClient, prefix string, services []core.ServiceSpec) []string {
	ctx := context.Background()
	parent := "projects/" + project + "/locations/" + region
	var wg sync.WaitGroup
	names := make([]string, len(services))
	errs := make([]error, len(services))
	for i, s := range services {
		wg.Go(func() {
			count := int32(s.Replicas)
			op, err := client.CreateService(ctx, &runpb.CreateServiceRequest{Parent: parent, ServiceId: prefix + "-" + s.Name, Service: &runpb.Service{
				Labels:   map[string]string{"service": s.Name},
				Template: &runpb.RevisionTemplate{Containers: []*runpb.Container{{Image: s.Image, Ports: []*runpb.ContainerPort{{ContainerPort: 8080}}}}},
				Scaling:  &runpb.ServiceScaling{ScalingMode: runpb.ServiceScaling_MANUAL, ManualInstanceCount: &count},
			}})
			if err != nil {
				errs[i] = err
				return
			}
			names[i] = parent + "/services/" + prefix + "-" + s.Name
			wait := 100 * time.Millisecond
			for {
				if _, err := op.Poll(ctx); err != nil {
					errs[i] = err
					return
				}
				if op.Done() {
					return
				}
				time.Sleep(wait)
				wait = min(time.Duration(float64(wait)*1.5), 3*time.Second)
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			b.Fatal(err)
		}
	}
	return names
}

func report(b *testing.B, name string, ds []time.Duration) {
	s := slices.Clone(ds)
	slices.Sort(s)
	b.ReportMetric(float64(s[len(s)/2].Nanoseconds()), name+"_p50_ns")
}
