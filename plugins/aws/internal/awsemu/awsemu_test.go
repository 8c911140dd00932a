package awsemu

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"
)

func client(t *testing.T, s *Server, key, secret string) *ecs.Client {
	t.Helper()
	return ecs.New(ecs.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(s.URL),
		Credentials: credentials.NewStaticCredentialsProvider(key, secret, ""),
		Retryer:     retry.AddWithMaxAttempts(retry.NewStandard(), 1),
	})
}

func start(t *testing.T) *Server {
	t.Helper()
	// A step long enough that a loaded machine still sees tasks before
	// they run.
	s, err := Start(Options{Step: 150 * time.Millisecond, PageSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	s.CreateCluster("c", "enhanced")
	return s
}

func code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// TestSignatures: a request signed with another key or secret is refused
// with AWS's codes; an unsigned one too.
func TestSignatures(t *testing.T) {
	t.Parallel()
	s := start(t)
	ctx := context.Background()
	in := &ecs.DescribeClustersInput{Clusters: []string{"c"}}
	if _, err := client(t, s, AccessKeyID, SecretAccessKey).DescribeClusters(ctx, in); err != nil {
		t.Fatalf("signed right: %v", err)
	}
	if _, err := client(t, s, "AKIAOTHER0000000000", SecretAccessKey).DescribeClusters(ctx, in); code(err) != "UnrecognizedClientException" {
		t.Errorf("another key: %v, want UnrecognizedClientException", err)
	}
	if _, err := client(t, s, AccessKeyID, "wrong").DescribeClusters(ctx, in); code(err) != "InvalidSignatureException" {
		t.Errorf("another secret: %v, want InvalidSignatureException", err)
	}
	req, _ := http.NewRequest(http.MethodPost, s.URL, strings.NewReader("{}"))
	req.Header.Set("X-Amz-Target", "AmazonEC2ContainerServiceV20141113.ListServices")
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 || resp.Header.Get("X-Amzn-ErrorType") != "MissingAuthenticationTokenException" {
		t.Errorf("unsigned: %d %s", resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"))
	}
}

// TestFaultShapes: each fault reaches the SDK as the error AWS gives.
func TestFaultShapes(t *testing.T) {
	t.Parallel()
	s := start(t)
	c := client(t, s, AccessKeyID, SecretAccessKey)
	for kind, want := range map[string]string{FaultThrottle: "ThrottlingException", Fault5xx: "ServerException",
		FaultExpired: "ExpiredTokenException", FaultNoCreds: "UnrecognizedClientException"} {
		s.InjectFault("ecs.ListServices", kind, 1)
		_, err := c.ListServices(context.Background(), &ecs.ListServicesInput{Cluster: aws.String("c")})
		if code(err) != want {
			t.Errorf("fault %s: %v, want %s", kind, err, want)
		}
	}
	if _, err := c.ListServices(context.Background(), &ecs.ListServicesInput{Cluster: aws.String("c")}); err != nil {
		t.Errorf("after the faults: %v", err)
	}
}

// TestServiceLifecycle: a service is MISSING a moment after its creation,
// its tasks go PROVISIONING, PENDING, RUNNING, the deployment completes,
// list calls paginate, and a deleted service drains and turns INACTIVE.
func TestServiceLifecycle(t *testing.T) {
	t.Parallel()
	s := start(t)
	ctx := context.Background()
	c := client(t, s, AccessKeyID, SecretAccessKey)
	td, err := c.RegisterTaskDefinition(ctx, &ecs.RegisterTaskDefinitionInput{
		Family: aws.String("f"), RequiresCompatibilities: []ecstypes.Compatibility{ecstypes.CompatibilityFargate},
		NetworkMode: ecstypes.NetworkModeAwsvpc, Cpu: aws.String("256"), Memory: aws.String("512"),
		ContainerDefinitions: []ecstypes.ContainerDefinition{{Name: aws.String("app"), Image: aws.String("busybox")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		_, err := c.CreateService(ctx, &ecs.CreateServiceInput{Cluster: aws.String("c"), ServiceName: aws.String(fmt.Sprintf("s%d", i)),
			TaskDefinition: td.TaskDefinition.TaskDefinitionArn, DesiredCount: aws.Int32(2), LaunchType: ecstypes.LaunchTypeFargate,
			NetworkConfiguration: &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{Subnets: []string{"subnet-1"}}}})
		if err != nil {
			t.Fatal(err)
		}
	}
	out, err := c.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("c"), Services: []string{"s0"}})
	if err != nil || len(out.Services) != 0 || len(out.Failures) != 1 || aws.ToString(out.Failures[0].Reason) != "MISSING" {
		t.Errorf("just after create: %+v %v, want MISSING", out, err)
	}
	seen := map[string]bool{}
	deadline := time.Now().Add(20 * time.Second)
	for !seen["RUNNING"] || !seen["COMPLETED"] {
		if time.Now().After(deadline) {
			t.Fatalf("saw %v", seen)
		}
		tasks, _ := c.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String("c"), ServiceName: aws.String("s0")})
		if len(tasks.TaskArns) > 0 {
			desc, _ := c.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String("c"), Tasks: tasks.TaskArns})
			for _, tk := range desc.Tasks {
				seen[aws.ToString(tk.LastStatus)] = true
			}
		}
		if out, _ := c.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("c"), Services: []string{"s0"}}); len(out.Services) == 1 {
			seen[string(out.Services[0].Deployments[0].RolloutState)] = true
		}
		time.Sleep(5 * time.Millisecond)
	}
	if !seen["PROVISIONING"] && !seen["PENDING"] {
		t.Errorf("tasks went to RUNNING without PROVISIONING or PENDING: %v", seen)
	}
	var names []string
	pages := 0
	p := ecs.NewListServicesPaginator(c, &ecs.ListServicesInput{Cluster: aws.String("c")})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		names = append(names, page.ServiceArns...)
	}
	if len(names) != 5 || pages != 3 {
		t.Errorf("listed %d services in %d pages, want 5 in 3", len(names), pages)
	}
	if _, err := c.DeleteService(ctx, &ecs.DeleteServiceInput{Cluster: aws.String("c"), Service: aws.String("s0")}); code(err) != "InvalidParameterException" {
		t.Errorf("delete a scaled service without force: %v, want InvalidParameterException", err)
	}
	if _, err := c.DeleteService(ctx, &ecs.DeleteServiceInput{Cluster: aws.String("c"), Service: aws.String("s0"), Force: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	for status := ""; status != "INACTIVE"; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("service is %s, want INACTIVE", status)
		}
		out, _ := c.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String("c"), Services: []string{"s0"}})
		status = aws.ToString(out.Services[0].Status)
	}
}
