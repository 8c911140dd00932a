package aws_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/plugins/aws/internal/awsemu"
	"github.com/alphaswarm/controller/sdk"
	"github.com/alphaswarm/controller/sdk/backendtest"
	"github.com/alphaswarm/controller/sdk/pluginhost"
)

// configured launches the plugin and configures it with config.
func configured(t *testing.T, config json.RawMessage) *pluginhost.Client {
	t.Helper()
	c := backendtest.LaunchPackage(pluginPackage)(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.Configure(ctx, &sdk.ConfigureRequest{Instance: "test", Config: config}); err != nil {
		t.Fatalf("configure: %v", err)
	}
	return c
}

var seq atomic.Int64

// newSpec is a deployment of the tenant with one service per name.
func newSpec(tenant string, services ...string) core.DeploymentSpec {
	d := core.DeploymentSpec{Tenant: tenant, Environment: "test", Name: fmt.Sprintf("eng-%d-%d", time.Now().Unix()%100000, seq.Add(1))}
	for _, s := range services {
		svc := testService(s)
		svc.Name, svc.Replicas = s, 1
		d.Services = append(d.Services, svc)
	}
	return d
}

func apply(ctx context.Context, c *pluginhost.Client, spec core.DeploymentSpec, prior []byte, secrets sdk.SecretValues) ([]byte, []core.Event, error) {
	var events []core.Event
	resp, err := c.Apply(ctx, &sdk.ApplyRequest{Deployment: spec, PriorState: prior, Secrets: secrets}, func(e core.Event) { events = append(events, e) })
	var state []byte
	if resp != nil {
		state = resp.State
	}
	return state, events, err
}

func tagMap(tags []awsemu.Tag) map[string]string {
	m := map[string]string{}
	for _, t := range tags {
		m[t.Key] = t.Value
	}
	return m
}

// owned says whether tags carry the deployment's alphaswarm tags.
func owned(tags map[string]string, spec core.DeploymentSpec) bool {
	return tags["alphaswarm:tenant"] == spec.Tenant && tags["alphaswarm:environment"] == spec.Environment && tags["alphaswarm:deployment"] == spec.Name
}

// TestEngineState applies a deployment with a secret and checks what the
// emulator holds: tags on every object, the secret's value in Secrets
// Manager only (the task definition has its ARN), the Fargate size and
// rolling update parameters; then that a changed secret value rolls the
// service, and that destroy leaves nothing of the deployment behind.
func TestEngineState(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := configured(t, configWith())
	spec := newSpec("acme", "api")
	api := &spec.Services[0]
	api.SecretEnv = []core.SecretRef{{Env: "DB_PASSWORD", Ref: "db/pass word;$(id)"}}
	api.Resources = core.Resources{CPU: 0.3, MemoryBytes: 700 << 20}
	api.Health = &core.HealthCheck{Kind: core.HealthCheckHTTP, Path: "/healthz; rm -rf /", Port: "http", Retries: 3}
	api.Labels = map[string]string{"team": "payments", "alphaswarm:tenant": "someone-else", "aws:x": "y"}
	const value = "s3cr3t-value-of-the-engine-test"
	state, _, err := apply(ctx, c, spec, nil, sdk.SecretValues{"db/pass word;$(id)": value})
	if err != nil {
		t.Fatalf("apply: %v", err)
	}

	snap := emu.Snapshot()
	var tds []awsemu.TaskDefinition
	for _, td := range snap.TaskDefinitions {
		if owned(tagMap(snap.TaskDefinitionTags[td.TaskDefinitionArn]), spec) {
			tds = append(tds, td)
		}
	}
	if len(tds) != 1 {
		t.Fatalf("%d task definitions tagged with the deployment, want 1", len(tds))
	}
	td := tds[0]
	raw, _ := json.Marshal(td)
	if strings.Contains(string(raw), value) {
		t.Errorf("the secret value is in the task definition: %s", raw)
	}
	cd := td.ContainerDefinitions[0]
	if len(cd.Secrets) != 1 || cd.Secrets[0].Name != "DB_PASSWORD" || !strings.HasPrefix(cd.Secrets[0].ValueFrom, "arn:aws:secretsmanager:eu-west-1:") {
		t.Errorf("container secrets %+v, want DB_PASSWORD from a Secrets Manager ARN", cd.Secrets)
	}
	if td.Cpu != "512" || td.Memory != "1024" || td.NetworkMode != "awsvpc" || td.RequiresCompatibilities[0] != "FARGATE" {
		t.Errorf("task definition cpu %s memory %s network %s compat %v, want 512/1024 awsvpc FARGATE", td.Cpu, td.Memory, td.NetworkMode, td.RequiresCompatibilities)
	}
	if lc := cd.LogConfiguration; lc == nil || lc.LogDriver != "awslogs" || snap.LogGroups[lc.Options["awslogs-group"]] == nil {
		t.Errorf("log configuration %+v: want awslogs to the deployment's log group, which exists", lc)
	} else if !owned(snap.LogGroups[lc.Options["awslogs-group"]], spec) {
		t.Errorf("log group tags %v lack the deployment's", snap.LogGroups[lc.Options["awslogs-group"]])
	}
	if hc, _ := json.Marshal(cd.HealthCheck); strings.Contains(string(hc), "; rm") || !strings.Contains(string(hc), "CMD-SHELL") {
		t.Errorf("health check %s: want CMD-SHELL with the path made inert", hc)
	}
	var secret *awsemu.SecretSnapshot
	for name, s := range snap.Secrets {
		if s.ARN == cd.Secrets[0].ValueFrom {
			if !strings.HasPrefix(name, "as/acme/test/"+spec.Name) {
				t.Errorf("secret name %q is not under the tenant's path", name)
			}
			secret = &s
		}
	}
	if secret == nil || secret.Value != value || !owned(secret.Tags, spec) {
		t.Fatalf("secret %+v: want the value, tagged with the deployment", secret)
	}
	var svc *awsemu.Service
	for i, s := range snap.Services {
		if owned(tagMap(s.Tags), spec) {
			svc = &snap.Services[i]
		}
	}
	if svc == nil {
		t.Fatal("no ECS service tagged with the deployment")
	}
	if tagMap(svc.Tags)["alphaswarm:service"] != "api" || svc.LaunchType != "FARGATE" || svc.PropagateTags != "SERVICE" {
		t.Errorf("service %s: tags %v, launch type %s, propagate %s", svc.ServiceName, svc.Tags, svc.LaunchType, svc.PropagateTags)
	}
	if tags := tagMap(svc.Tags); tags["team"] != "payments" || tags["alphaswarm:tenant"] != spec.Tenant || tags["aws:x"] != "" {
		t.Errorf("service tags %v: want the label team, and no label overriding or reserved tags", tags)
	}
	dc, _ := json.Marshal(svc.DeploymentConfiguration)
	if !strings.Contains(string(dc), `"maximumPercent":200`) || !strings.Contains(string(dc), `"minimumHealthyPercent":100`) ||
		!strings.Contains(string(dc), `"rollback":true`) {
		t.Errorf("deployment configuration %s: want 100/200 with the circuit breaker rolling back", dc)
	}
	for _, task := range snap.Tasks {
		if task.Group == "service:"+svc.ServiceName && !owned(tagMap(task.Tags), spec) {
			t.Errorf("task %s lacks the deployment's tags: %v", task.TaskArn, task.Tags)
		}
	}

	// A changed label changes the service's tags, not its tasks.
	api.Labels = map[string]string{"owner": "ops"}
	before := svc.TaskDefinition
	if state, _, err = apply(ctx, c, spec, state, sdk.SecretValues{"db/pass word;$(id)": value}); err != nil {
		t.Fatalf("apply with new labels: %v", err)
	}
	if got := serviceOf(t, spec); tagMap(got.Tags)["owner"] != "ops" || tagMap(got.Tags)["team"] != "" || got.TaskDefinition != before {
		t.Errorf("after relabelling: tags %v, task definition %s (was %s)", got.Tags, got.TaskDefinition, before)
	}

	// The same value again: nothing changes. A new value: a new revision.
	if state, _, err = apply(ctx, c, spec, state, sdk.SecretValues{"db/pass word;$(id)": value}); err != nil {
		t.Fatalf("apply again: %v", err)
	}
	if got := serviceOf(t, spec).TaskDefinition; got != before {
		t.Errorf("applying the same secret again moved the service to %s", got)
	}
	if state, _, err = apply(ctx, c, spec, state, sdk.SecretValues{"db/pass word;$(id)": value + "-rotated"}); err != nil {
		t.Fatalf("apply with a new secret value: %v", err)
	}
	if got := serviceOf(t, spec).TaskDefinition; got == before {
		t.Errorf("a changed secret value did not roll the service")
	}

	// A secret no service refers to any more is deleted.
	spec.Services[0].SecretEnv = nil
	if state, _, err = apply(ctx, c, spec, state, nil); err != nil {
		t.Fatalf("apply without the secret: %v", err)
	}
	for name, s := range emu.Snapshot().Secrets {
		if owned(s.Tags, spec) {
			t.Errorf("secret %s is left after no service refers to it", name)
		}
	}

	if _, err := c.Destroy(ctx, &sdk.DestroyRequest{Deployment: spec.Ref(), State: state, RemoveData: true}); err != nil {
		t.Fatalf("destroy: %v", err)
	}
	// Applying again at once waits for the services to finish draining.
	if state, _, err = apply(ctx, c, spec, nil, nil); err != nil {
		t.Fatalf("apply right after destroy: %v", err)
	}
	if _, err := c.Destroy(ctx, &sdk.DestroyRequest{Deployment: spec.Ref(), State: state, RemoveData: true}); err != nil {
		t.Fatalf("destroy: %v", err)
	}
	snap = emu.Snapshot()
	for _, td := range snap.TaskDefinitions {
		if owned(tagMap(snap.TaskDefinitionTags[td.TaskDefinitionArn]), spec) && td.Status != "INACTIVE" {
			t.Errorf("task definition %s is still %s after destroy", td.TaskDefinitionArn, td.Status)
		}
	}
	for name, s := range snap.Secrets {
		if owned(s.Tags, spec) {
			t.Errorf("secret %s is left after destroy", name)
		}
	}
	for name, tags := range snap.LogGroups {
		if owned(tags, spec) {
			t.Errorf("log group %s is left after destroy with data removal", name)
		}
	}
	for _, s := range snap.Services {
		if owned(tagMap(s.Tags), spec) && s.Status == "ACTIVE" {
			t.Errorf("service %s is still active after destroy", s.ServiceName)
		}
	}
}

func serviceOf(t *testing.T, spec core.DeploymentSpec) awsemu.Service {
	t.Helper()
	for _, s := range emu.Snapshot().Services {
		if owned(tagMap(s.Tags), spec) {
			return s
		}
	}
	t.Fatalf("no service of %s", spec.Ref())
	return awsemu.Service{}
}

// TestFaults runs an apply per fault the emulator injects: what AWS says
// may be retried is retried by the SDK and the apply succeeds; the rest
// fails with one clear error naming the AWS service, the operation and the
// cause. Destroy afterwards leaves nothing tagged with the deployment.
func TestFaults(t *testing.T) {
	// Not parallel: faults are injected for every caller of the emulator.
	cases := []struct {
		name     string
		op, kind string
		count    int
		// setup prepares the emulator and the spec, and returns the
		// configuration (nil: configWith()).
		setup func(t *testing.T, spec *core.DeploymentSpec) json.RawMessage
		// configured changes the emulator once the plugin is configured.
		configured func(spec core.DeploymentSpec)
		wantError  []string // none: apply succeeds
		wantCalls  int      // calls of op at least, retries included
	}{
		{name: "throttled twice", op: "ecs.RegisterTaskDefinition", kind: awsemu.FaultThrottle, count: 2, wantCalls: 3},
		{name: "server error once", op: "ecs.CreateService", kind: awsemu.Fault5xx, count: 1, wantCalls: 2},
		{name: "throttled secrets", op: "secretsmanager.CreateSecret", kind: awsemu.FaultThrottle, count: 1, wantCalls: 2},
		{name: "throttled namespace", op: "servicediscovery.CreateHttpNamespace", kind: awsemu.FaultThrottle, count: 1, wantCalls: 2},
		{name: "server error polling the namespace", op: "servicediscovery.GetOperation", kind: awsemu.Fault5xx, count: 1, wantCalls: 2},
		{name: "slow answers", op: "ecs.DescribeServices", kind: awsemu.FaultSlow, count: 2, wantCalls: 2},
		{name: "throttled past the retries", op: "ecs.CreateService", kind: awsemu.FaultThrottle, count: 20,
			wantError: []string{"unavailable", "create ECS service for api", "ECS: CreateService", "ThrottlingException", "Rate exceeded"}, wantCalls: 6},
		{name: "server errors past the retries", op: "ecs.RegisterTaskDefinition", kind: awsemu.Fault5xx, count: 20,
			wantError: []string{"unavailable", "register task definition of service api", "ECS: RegisterTaskDefinition", "ServerException"}, wantCalls: 6},
		{name: "expired credentials", op: "logs.CreateLogGroup", kind: awsemu.FaultExpired, count: 1,
			wantError: []string{"create log group", "CloudWatch Logs: CreateLogGroup", "credentials", "expired", "ExpiredTokenException"}},
		{name: "unknown subnet", setup: func(*testing.T, *core.DeploymentSpec) json.RawMessage {
			// ECS answers CreateService with an InvalidParameterException
			// naming the subnet it could not find.
			return configWith("subnets", []string{"subnet-missing0"})
		}, wantError: []string{"create ECS service for api", "ECS: CreateService", "InvalidParameterException", "subnet-missing0", "does not exist"}},
		{name: "missing image", setup: func(_ *testing.T, spec *core.DeploymentSpec) json.RawMessage {
			image := "registry.example/missing-" + spec.Name + ":1"
			emu.MissingImage(image)
			spec.Services[0].Image = image
			return nil
		}, wantError: []string{"roll out service api", "ECS deployment circuit breaker", "CannotPullContainerError", "registry.example/missing-"}},
		{name: "cluster deleted since configure", setup: func(t *testing.T, spec *core.DeploymentSpec) json.RawMessage {
			emu.CreateCluster("deleted-"+spec.Name, "enhanced")
			return configWith("cluster", "deleted-"+spec.Name)
		}, configured: func(spec core.DeploymentSpec) { emu.DeleteCluster("deleted-" + spec.Name) }, wantError: []string{"describe ECS service", "ECS: DescribeServices", "ClusterNotFoundException", `ECS cluster "deleted-`, "does not exist"}},
		{name: "Fargate vCPU quota exceeded", setup: func(t *testing.T, spec *core.DeploymentSpec) json.RawMessage {
			// Less than the one task needs (0.25 vCPU): ECS cannot place
			// it, says so in the service's events, and the circuit
			// breaker stops the deployment.
			emu.FargateVCPUQuota(0.125)
			t.Cleanup(func() { emu.FargateVCPUQuota(0) })
			return nil
		}, wantError: []string{"roll out service api", "ECS deployment circuit breaker", "unable to place a task", "limit on the number of vCPUs"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			spec := newSpec("faults", "api")
			spec.Services[0].SecretEnv = []core.SecretRef{{Env: "TOKEN", Ref: "token"}}
			var config json.RawMessage
			if tc.setup != nil {
				config = tc.setup(t, &spec)
			}
			if config == nil {
				config = configWith()
			}
			c := configured(t, config)
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			if tc.configured != nil {
				tc.configured(spec)
			}
			calls := emu.Calls(tc.op)
			if tc.op != "" {
				emu.InjectFault(tc.op, tc.kind, tc.count)
				defer emu.ClearFaults()
			}
			state, _, err := apply(ctx, c, spec, nil, sdk.SecretValues{"token": "t0ken-value"})
			defer func() {
				// Destroy, through a throttled call too, leaves nothing
				// tagged with the deployment behind.
				emu.ClearFaults()
				emu.FargateVCPUQuota(0)
				emu.InjectFault("ecs.DeleteService", awsemu.FaultThrottle, 1)
				if _, err := c.Destroy(ctx, &sdk.DestroyRequest{Deployment: spec.Ref(), State: state, RemoveData: true}); err != nil {
					t.Errorf("destroy after the fault: %v", err)
				}
				emu.ClearFaults()
				if left := leftovers(spec); len(left) > 0 {
					t.Errorf("destroy after the fault left %v", left)
				}
			}()
			switch {
			case len(tc.wantError) == 0 && err != nil:
				t.Fatalf("apply: %v", err)
			case len(tc.wantError) > 0 && err == nil:
				t.Fatalf("apply succeeded, want an error with %q", tc.wantError)
			}
			if err != nil {
				t.Logf("apply: %v", err)
			}
			for _, w := range tc.wantError {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if tc.count > 6 && !sdk.IsRetriable(err) {
				t.Errorf("faults past the retries: %T %v, want a retriable UnavailableError", err, err)
			}
			if err != nil && strings.Contains(err.Error(), "t0ken-value") {
				t.Errorf("the error shows the secret value: %v", err)
			}
			if got := emu.Calls(tc.op) - calls; tc.wantCalls > 0 && got < tc.wantCalls {
				t.Errorf("%s called %d times, want at least %d (retries)", tc.op, got, tc.wantCalls)
			}
		})
	}
}

// TestConfigureRefusesMissingClusterAndBadCredentials: Configure reaches
// ECS and names what is wrong.
func TestConfigureRefusesMissingClusterAndBadCredentials(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, tc := range []struct {
		name   string
		config json.RawMessage
		want   string
	}{
		{"a cluster that does not exist", configWith("cluster", "no-such-cluster"), `cluster: ECS cluster "no-such-cluster" does not exist`},
		{"an unknown access key", configWith("access_key_id", "AKIAUNKNOWN000000000"), "refused the backend's credentials (UnrecognizedClientException)"},
		{"a wrong secret key", configWith("secret_access_key", "wrong"), "refused the backend's credentials (InvalidSignatureException)"},
	} {
		c := backendtest.LaunchPackage(pluginPackage)(t)
		_, err := c.Configure(ctx, &sdk.ConfigureRequest{Instance: "test", Config: tc.config})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: configure: %v, want an error with %q", tc.name, err, tc.want)
		}
		var invalid *sdk.InvalidConfigError
		if tc.name == "a cluster that does not exist" && !errors.As(err, &invalid) {
			t.Errorf("%s: %T, want an InvalidConfigError", tc.name, err)
		}
	}
}

// TestMissingImageTripsTheCircuitBreaker: an update to an image that
// cannot be pulled fails, quoting the tasks' CannotPullContainerError, and
// ECS rolls the service back to the revision before; a new service with
// such an image fails the same way.
func TestMissingImageTripsTheCircuitBreaker(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := configured(t, configWith())
	spec := newSpec("breaker", "api")
	state, _, err := apply(ctx, c, spec, nil, nil)
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	defer c.Destroy(context.Background(), &sdk.DestroyRequest{Deployment: spec.Ref(), State: state, RemoveData: true}) //nolint:errcheck
	good := serviceOf(t, spec).TaskDefinition
	missing := "registry.example/missing-" + spec.Name + ":1"
	emu.MissingImage(missing)
	spec.Services[0].Image = missing
	state, _, err = apply(ctx, c, spec, state, nil)
	for _, want := range []string{"roll out service api", "CannotPullContainerError", missing} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("apply of a missing image: %v, want an error with %q", err, want)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for serviceOf(t, spec).TaskDefinition != good || len(serviceOf(t, spec).Deployments) != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("the service did not roll back to %s: %+v", good, serviceOf(t, spec))
		}
		time.Sleep(100 * time.Millisecond)
	}

	fresh := newSpec("breaker", "web")
	fresh.Services[0].Image = missing
	st2, _, err := apply(ctx, c, fresh, nil, nil)
	defer c.Destroy(context.Background(), &sdk.DestroyRequest{Deployment: fresh.Ref(), State: st2, RemoveData: true}) //nolint:errcheck
	if err == nil || !strings.Contains(err.Error(), "circuit breaker") || !strings.Contains(err.Error(), "CannotPullContainerError") {
		t.Errorf("apply of a new service with a missing image: %v, want the circuit breaker and CannotPullContainerError", err)
	}
	resp, err := c.Status(ctx, &sdk.StatusRequest{Deployment: fresh.Ref(), State: st2})
	if err != nil {
		t.Fatal(err)
	}
	if ss := resp.Status.Service("web"); ss == nil || ss.Health == core.HealthReady || !strings.Contains(strings.Join(ss.Reasons, " "), "CannotPullContainerError") {
		t.Errorf("status of the failed service: %+v, want it not ready, saying CannotPullContainerError", ss)
	}
}

// leftovers lists what the emulator still holds of the deployment: active
// services, active task definitions, secrets and log groups.
func leftovers(spec core.DeploymentSpec) []string {
	var left []string
	snap := emu.Snapshot()
	for _, s := range snap.Services {
		if owned(tagMap(s.Tags), spec) && s.Status == "ACTIVE" {
			left = append(left, "service "+s.ServiceName)
		}
	}
	for _, td := range snap.TaskDefinitions {
		if owned(tagMap(snap.TaskDefinitionTags[td.TaskDefinitionArn]), spec) && td.Status == "ACTIVE" {
			left = append(left, "task definition "+td.TaskDefinitionArn)
		}
	}
	for name, s := range snap.Secrets {
		if owned(s.Tags, spec) {
			left = append(left, "secret "+name)
		}
	}
	for name, tags := range snap.LogGroups {
		if owned(tags, spec) {
			left = append(left, "log group "+name)
		}
	}
	for name, ns := range snap.Namespaces {
		if owned(ns.Tags, spec) {
			left = append(left, "Cloud Map namespace "+name)
		}
	}
	for name, tg := range snap.TargetGroups {
		if owned(tg.Tags, spec) {
			left = append(left, "target group "+name)
		}
	}
	for _, r := range snap.Rules {
		if owned(r.Tags, spec) {
			left = append(left, fmt.Sprintf("listener rule %v", r.Paths))
		}
	}
	return left
}

// TestMetricsNeedContainerInsights: on a cluster without Container
// Insights' enhanced observability, metrics answer Unsupported, saying how
// to turn it on.
func TestMetricsNeedContainerInsights(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	emu.CreateCluster("no-insights", "disabled")
	c := configured(t, configWith("cluster", "no-insights"))
	spec := newSpec("metrics", "api")
	state, _, err := apply(ctx, c, spec, nil, nil)
	defer c.Destroy(context.Background(), &sdk.DestroyRequest{Deployment: spec.Ref(), State: state, RemoveData: true}) //nolint:errcheck
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	_, err = c.Metrics(ctx, &sdk.MetricsRequest{Deployment: spec.Ref(), State: state})
	var unsupported *sdk.UnsupportedError
	if !errors.As(err, &unsupported) || !strings.Contains(err.Error(), "containerInsights,value=enhanced") {
		t.Errorf("metrics without Container Insights: %v, want Unsupported saying how to turn it on", err)
	}
}

// TestAssumeRole: with role_arn the keys assume the role through STS, with
// the external id, and every call is made as the role; a wrong external
// id fails Configure with AWS's refusal.
func TestAssumeRole(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	role := "arn:aws:iam::" + awsemu.AccountID + ":role/alphaswarm-deployer-test"
	emu.AddRole(role, "ext-4242")
	c := configured(t, configWith("role_arn", role, "external_id", "ext-4242"))
	spec := newSpec("roles", "api")
	state, _, err := apply(ctx, c, spec, nil, nil)
	defer c.Destroy(context.Background(), &sdk.DestroyRequest{Deployment: spec.Ref(), State: state, RemoveData: true}) //nolint:errcheck
	if err != nil {
		t.Fatalf("apply as the role: %v", err)
	}
	if n := emu.AssumedCalls(role); n < 3 {
		t.Errorf("%d calls made as the role, want every call of configure and apply", n)
	}
	bad := backendtest.LaunchPackage(pluginPackage)(t)
	_, err = bad.Configure(ctx, &sdk.ConfigureRequest{Instance: "test", Config: configWith("role_arn", role, "external_id", "wrong")})
	if err == nil || !strings.Contains(err.Error(), "AccessDenied") || strings.Contains(err.Error(), "ext-4242") {
		t.Errorf("configure with a wrong external id: %v, want AccessDenied", err)
	}
}

// TestCreateCluster: with create_cluster, Configure accepts a cluster that
// does not exist, and the first apply creates it.
func TestCreateCluster(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	name := fmt.Sprintf("created-%d", time.Now().UnixNano())
	c := configured(t, configWith("cluster", name, "create_cluster", true))
	spec := newSpec("clusters", "api")
	state, events, err := apply(ctx, c, spec, nil, nil)
	defer c.Destroy(context.Background(), &sdk.DestroyRequest{Deployment: spec.Ref(), State: state, RemoveData: true}) //nolint:errcheck
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	if !strings.Contains(fmt.Sprint(events), "creating ECS cluster "+name) || emu.Calls("ecs.CreateCluster") == 0 {
		t.Errorf("apply did not create the cluster: %v", events)
	}
}
