package azure_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/appcontainers/armappcontainers/v3"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/sdk"
	"github.com/alphaswarm/controller/sdk/backendtest"
	"github.com/alphaswarm/controller/sdk/pluginhost"
)

// BenchmarkAzureApply measures applying a 10-service deployment through
// the plugin (a launched binary, over mutual TLS) until every app is
// provisioned, against creating the same apps directly with the SDK's
// clients, four at a time, polling their operations at the same interval,
// on the same fake. The two take turns in each iteration; each reports its
// median as <variant>_p50_ns. Teardown is not timed.
func BenchmarkAzureApply(b *testing.B) {
	ctx := context.Background()
	plugin, err := pluginhost.Launch(ctx, pluginhost.LaunchConfig{Path: backendtest.Binary(b, pluginPackage), Env: []string{"SSL_CERT_FILE=" + fake.CAFile()}})
	if err != nil {
		b.Fatal(err)
	}
	defer plugin.Close()
	if _, err := plugin.Configure(ctx, &sdk.ConfigureRequest{Config: config(b, nil)}); err != nil {
		b.Fatal(err)
	}
	apps := directClient(b)
	envID := fmt.Sprintf("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.App/managedEnvironments/%s", subscription, group, envName)
	var viaPlugin, direct []time.Duration
	for i := 0; b.Loop(); i++ {
		spec := core.DeploymentSpec{Tenant: "bench", Environment: "azure", Name: fmt.Sprintf("b%d", i)}
		for j := range 10 {
			svc := testService("")
			svc.Name, svc.Replicas = fmt.Sprintf("svc%d", j), 2
			spec.Services = append(spec.Services, svc)
		}
		t0 := time.Now()
		if _, err := plugin.Apply(ctx, &sdk.ApplyRequest{Deployment: spec}, nil); err != nil {
			b.Fatal(err)
		}
		viaPlugin = append(viaPlugin, time.Since(t0))
		if _, err := plugin.Destroy(ctx, &sdk.DestroyRequest{Deployment: spec.Ref()}); err != nil {
			b.Fatal(err)
		}
		t0 = time.Now()
		names := createDirectly(b, apps, envID, fmt.Sprintf("direct-%d", i), spec.Services)
		direct = append(direct, time.Since(t0))
		for _, n := range names {
			if p, err := apps.BeginDelete(ctx, group, n, nil); err == nil {
				for !p.Done() {
					time.Sleep(50 * time.Millisecond)
					_, _ = p.Poll(ctx)
				}
			}
		}
	}
	report(b, "azure_apply", viaPlugin)
	report(b, "sdk_direct", direct)
}

func directClient(b testing.TB) *armappcontainers.ContainerAppsClient {
	opts := policy.ClientOptions{Cloud: cloud.Configuration{ActiveDirectoryAuthorityHost: fake.URL() + "/",
		Services: map[cloud.ServiceName]cloud.ServiceConfiguration{cloud.ResourceManager: {Endpoint: fake.URL(), Audience: fake.URL()}}}}
	cred, err := azidentity.NewClientSecretCredential(tenantID, clientID, clientSecret,
		&azidentity.ClientSecretCredentialOptions{ClientOptions: opts, DisableInstanceDiscovery: true})
	if err != nil {
		b.Fatal(err)
	}
	apps, err := armappcontainers.NewContainerAppsClient(subscription, cred, &arm.ClientOptions{ClientOptions: opts})
	if err != nil {
		b.Fatal(err)
	}
	return apps
}

// createDirectly creates one app per service with the SDK alone, four at a
// time, and waits for each operation.
func createDirectly(b *testing.B, apps *armappcontainers.ContainerAppsClient, envID, prefix string, services []core.ServiceSpec) []string {
	ctx := context.Background()
	var names []string
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	errs := make(chan error, len(services))
	for _, s := range services {
		name := prefix + "-" + s.Name
		names = append(names, name)
		n := int32(s.Replicas)
		app := armappcontainers.ContainerApp{Location: ptr(location), Properties: &armappcontainers.ContainerAppProperties{
			ManagedEnvironmentID: &envID,
			Configuration: &armappcontainers.Configuration{ActiveRevisionsMode: ptr(armappcontainers.ActiveRevisionsModeSingle),
				Ingress: &armappcontainers.Ingress{TargetPort: ptr(int32(8080)), Transport: ptr(armappcontainers.IngressTransportMethodAuto), External: ptr(false)}},
			Template: &armappcontainers.Template{
				Containers: []*armappcontainers.Container{{Name: ptr("main"), Image: ptr(s.Image),
					Resources: &armappcontainers.ContainerResources{CPU: ptr(0.5), Memory: ptr("1Gi")}}},
				Scale: &armappcontainers.Scale{MinReplicas: &n, MaxReplicas: &n},
			}}}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			p, err := apps.BeginCreateOrUpdate(ctx, group, name, app, nil)
			if err != nil {
				errs <- err
				return
			}
			for !p.Done() {
				time.Sleep(50 * time.Millisecond)
				if _, err := p.Poll(ctx); err != nil {
					errs <- err
					return
				}
			}
			if _, err := p.Result(ctx); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	return names
}

func ptr[T any](v T) *T { return &v }

func report(b *testing.B, name string, ds []time.Duration) {
	s := slices.Clone(ds)
	slices.Sort(s)
	b.ReportMetric(float64(s[len(s)/2].Nanoseconds()), name+"_p50_ns")
}
