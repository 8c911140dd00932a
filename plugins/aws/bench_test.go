package aws_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	sdtypes "github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/plugins/aws/internal/awsemu"
	"github.com/alphaswarm/controller/sdk"
	"github.com/alphaswarm/controller/sdk/backendtest"
	"github.com/alphaswarm/controller/sdk/pluginhost"
)

// BenchmarkAWSApply measures applying a 10-service deployment through the
// plugin (a launched binary, over mutual TLS) against the same API calls
// made directly with the SDK against the same emulator: the log group,
// then per service, side by side, DescribeServices, RegisterTaskDefinition
// and CreateService, then DescribeServices polled on the plugin's schedule
// until every rollout has completed. The two take turns in each iteration;
// each reports its median as <variant>_p50_ns. Teardown is not timed.
func BenchmarkAWSApply(b *testing.B) {
	ctx := context.Background()
	c, err := pluginhost.Launch(ctx, pluginhost.LaunchConfig{Path: backendtest.Binary(b, pluginPackage)})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Configure(ctx, &sdk.ConfigureRequest{Config: configWith()}); err != nil {
		b.Fatal(err)
	}
	direct := ecs.New(ecs.Options{Region: "eu-west-1", BaseEndpoint: aws.String(emu.URL),
		Credentials: credentials.NewStaticCredentialsProvider(awsemu.AccessKeyID, awsemu.SecretAccessKey, "")})
	logs := cloudwatchlogs.New(cloudwatchlogs.Options{Region: "eu-west-1", BaseEndpoint: aws.String(emu.URL),
		Credentials: credentials.NewStaticCredentialsProvider(awsemu.AccessKeyID, awsemu.SecretAccessKey, "")})
	sd := servicediscovery.New(servicediscovery.Options{Region: "eu-west-1", BaseEndpoint: aws.String(emu.URL),
		Credentials: credentials.NewStaticCredentialsProvider(awsemu.AccessKeyID, awsemu.SecretAccessKey, "")})
	var plugin, sdkDirect []time.Duration
	for i := 0; b.Loop(); i++ {
		spec := core.DeploymentSpec{Tenant: "bench", Environment: "bench", Name: fmt.Sprintf("b%d-%d", time.Now().Unix()%100000, i)}
		for j := range 10 {
			svc := testService("")
			svc.Name, svc.Replicas = fmt.Sprintf("svc%d", j), 1
			spec.Services = append(spec.Services, svc)
		}
		t0 := time.Now()
		resp, err := c.Apply(ctx, &sdk.ApplyRequest{Deployment: spec}, nil)
		if err != nil {
			b.Fatal(err)
		}
		plugin = append(plugin, time.Since(t0))
		if _, err := c.Destroy(ctx, &sdk.DestroyRequest{Deployment: spec.Ref(), State: resp.State, RemoveData: true}); err != nil {
			b.Fatal(err)
		}

		prefix := fmt.Sprintf("direct-%d-%d", time.Now().Unix()%100000, i)
		t0 = time.Now()
		applyDirectly(b, direct, logs, sd, prefix)
		sdkDirect = append(sdkDirect, time.Since(t0))
		for j := range 10 {
			direct.DeleteService(ctx, &ecs.DeleteServiceInput{Cluster: aws.String(testCluster), Service: aws.String(fmt.Sprintf("%s-%d", prefix, j)), Force: aws.Bool(true)}) //nolint:errcheck
		}
	}
	report(b, "aws_apply", plugin)
	report(b, "sdk_direct", sdkDirect)
}

func applyDirectly(b *testing.B, c *ecs.Client, logs *cloudwatchlogs.Client, sd *servicediscovery.Client, prefix string) {
	ctx := context.Background()
	if _, err := logs.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{LogGroupName: aws.String("/" + prefix)}); err != nil {
		b.Fatal(err)
	}
	// The deployment's Cloud Map namespace, as the plugin makes it.
	sd.ListNamespaces(ctx, &servicediscovery.ListNamespacesInput{}) //nolint:errcheck
	op, err := sd.CreateHttpNamespace(ctx, &servicediscovery.CreateHttpNamespaceInput{Name: aws.String(prefix)})
	if err != nil {
		b.Fatal(err)
	}
	for wait := 100 * time.Millisecond; ; wait = min(2*wait, 2*time.Second) {
		out, err := sd.GetOperation(ctx, &servicediscovery.GetOperationInput{OperationId: op.OperationId})
		if err != nil {
			b.Fatal(err)
		}
		if out.Operation.Status == sdtypes.OperationStatusSuccess {
			sd.GetNamespace(ctx, &servicediscovery.GetNamespaceInput{Id: aws.String(out.Operation.Targets["NAMESPACE"])}) //nolint:errcheck
			break
		}
		time.Sleep(wait)
	}
	var wg sync.WaitGroup
	names := make([]string, 10)
	for j := range 10 {
		names[j] = fmt.Sprintf("%s-%d", prefix, j)
		wg.Go(func() {
			c.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(testCluster), Services: []string{names[j]}}) //nolint:errcheck
			td, err := c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
				Family: aws.String(names[j]), RequiresCompatibilities: []ecstypes.Compatibility{ecstypes.CompatibilityFargate},
				NetworkMode: ecstypes.NetworkModeAwsvpc, Cpu: aws.String("256"), Memory: aws.String("512"),
				ExecutionRoleArn:     aws.String("arn:aws:iam::" + awsemu.AccountID + ":role/ecsTaskExecutionRole"),
				ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("busybox")}},
			})
			if err != nil {
				b.Error(err)
				return
			}
			if _, err := c.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String(testCluster), ServiceName: aws.String(names[j]),
				TaskDefinition: td.TaskDefinition.TaskDefinitionArn, DesiredCount: aws.Int32(1), LaunchType: ecstypes.LaunchTypeFargate,
				NetworkConfiguration: &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{Subnets: []string{"subnet-0a1b2c3d"}}},
			}); err != nil {
				b.Error(err)
			}
		})
	}
	wg.Wait()
	wait := 200 * time.Millisecond
	for pending := names; len(pending) > 0; wait = min(time.Duration(float64(wait)*1.5), 5*time.Second) {
		out, err := c.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(testCluster), Services: pending})
		if err != nil {
			b.Fatal(err)
		}
		for _, s := range out.Services {
			if d := s.Deployments[0]; d.RolloutState == ecstypes.DeploymentRolloutStateCompleted && len(s.Deployments) == 1 {
				pending = slices.DeleteFunc(pending, func(n string) bool { return n == aws.ToString(s.ServiceName) })
			}
		}
		if len(pending) > 0 {
			time.Sleep(wait)
		}
	}
}

func report(b *testing.B, name string, d []time.Duration) {
	s := slices.Clone(d)
	slices.Sort(s)
	b.ReportMetric(float64(s[len(s)/2].Nanoseconds()), name+"_p50_ns")
}
