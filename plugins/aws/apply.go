package aws

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/sdk"
)

// container is the name of the one container of every task definition.
const container = "app"

// Validate reports what ECS on Fargate cannot run as written. It reaches
// nothing.
func (b *Backend) Validate(_ context.Context, req *sdk.ValidateRequest) (*sdk.ValidateResponse, error) {
	var diags []sdk.Diagnostic
	for _, s := range req.Deployment.Services {
		if _, _, err := sizeFor(s.Resources.CPU, s.Resources.MemoryBytes); err != nil {
			diags = append(diags, sdk.Diagnostic{Severity: sdk.SeverityError, Path: "service." + s.Name + ".resources",
				Summary: fmt.Sprintf("service %q: %v", s.Name, err)})
		}
		if len(s.Volumes) > 0 {
			diags = append(diags, sdk.Diagnostic{Severity: sdk.SeverityWarning, Path: "service." + s.Name + ".volume",
				Summary: fmt.Sprintf("service %q: volumes are not supported on ECS by this version and are dropped", s.Name)})
		}
	}
	return &sdk.ValidateResponse{Diagnostics: diags}, nil
}

// Plan compares the spec with the services as last applied, and reports
// what Fargate approximates or drops.
func (b *Backend) Plan(_ context.Context, req *sdk.PlanRequest) (*sdk.PlanResponse, error) {
	st, err := decodeState(req.PriorState)
	if err != nil {
		return nil, err
	}
	resp := &sdk.PlanResponse{Services: sdk.DiffServices(st.Services, req.Deployment.Services)}
	for _, s := range req.Deployment.Services {
		size, approx, err := sizeFor(s.Resources.CPU, s.Resources.MemoryBytes)
		switch {
		case err != nil:
			resp.Compatibility = append(resp.Compatibility, sdk.CompatibilityNote{Service: s.Name, Field: "resources", Level: sdk.CompatError, Detail: err.Error()})
		case approx:
			resp.Compatibility = append(resp.Compatibility, sdk.CompatibilityNote{Service: s.Name, Field: "resources", Level: sdk.CompatApproximated,
				Detail: "rounded up to the Fargate task size " + size.String()})
		}
		for _, p := range s.Ports {
			if p.Protocol == core.ProtocolUDP {
				resp.Compatibility = append(resp.Compatibility, sdk.CompatibilityNote{Service: s.Name, Field: "port." + p.Name, Level: sdk.CompatApproximated,
					Detail: "ECS Service Connect carries TCP only: the UDP port is open inside the VPC but not reachable by the service's name"})
			}
			switch n := b.namer(req.Deployment.Ref()); {
			case p.Host == 0:
			case b.cfg.ListenerARN == "":
				resp.Compatibility = append(resp.Compatibility, sdk.CompatibilityNote{Service: s.Name, Field: "port." + p.Name + ".host", Level: sdk.CompatDropped,
					Detail: "published ports need a load balancer listener (listener_arn), which this backend has not been given; the port is open inside the VPC only"})
			case p.Protocol == core.ProtocolUDP:
				resp.Compatibility = append(resp.Compatibility, sdk.CompatibilityNote{Service: s.Name, Field: "port." + p.Name + ".host", Level: sdk.CompatDropped,
					Detail: "the load balancer listener forwards HTTP only: a UDP port is not published"})
			case len(n.publishedPath(s.Name, p.Name))+2 > maxPathPattern:
				resp.Compatibility = append(resp.Compatibility, sdk.CompatibilityNote{Service: s.Name, Field: "port." + p.Name + ".host", Level: sdk.CompatError,
					Detail: fmt.Sprintf("the path %s is longer than a listener rule allows (%d): shorten the names", n.publishedPath(s.Name, p.Name), maxPathPattern)})
			default:
				resp.Compatibility = append(resp.Compatibility, sdk.CompatibilityNote{Service: s.Name, Field: "port." + p.Name + ".host", Level: sdk.CompatApproximated,
					Detail: fmt.Sprintf("published through the load balancer listener at the path %s (and under it), over HTTP; host port %d is not used", n.publishedPath(s.Name, p.Name), p.Host)})
			}
		}
		if len(s.Volumes) > 0 {
			resp.Compatibility = append(resp.Compatibility, sdk.CompatibilityNote{Service: s.Name, Field: "volume", Level: sdk.CompatDropped,
				Detail: "volumes are not supported on ECS by this version"})
		}
		if _, dropped := labelTags(s.Labels); len(dropped) > 0 {
			resp.Compatibility = append(resp.Compatibility, sdk.CompatibilityNote{Service: s.Name, Field: "labels", Level: sdk.CompatDropped,
				Detail: fmt.Sprintf("labels %v do not become ECS tags: reserved prefix (aws:, alphaswarm:), characters or lengths AWS refuses, or past %d labels", dropped, maxLabelTags)})
		}
		if len(s.DependsOn) > 0 {
			resp.Compatibility = append(resp.Compatibility, sdk.CompatibilityNote{Service: s.Name, Field: "depends_on", Level: sdk.CompatApproximated,
				Detail: "ECS services start independently; apply creates them in dependency order but does not wait between them"})
		}
	}
	return resp, nil
}

// Apply makes ECS run the deployment: the log group, the secrets, then per
// service a task definition (registered only when it changed) and a
// service, and waits until every rollout has completed.
func (b *Backend) Apply(ctx context.Context, req *sdk.ApplyRequest, progressFn sdk.ProgressFunc) (*sdk.ApplyResponse, error) {
	st, err := decodeState(req.PriorState)
	if err != nil {
		return nil, err
	}
	progress := sdk.NewProgress(progressFn)
	spec := req.Deployment
	n := b.namer(spec.Ref())
	// Record the services about to be applied, so that a failed or killed
	// apply leaves a state from which destroy finds them; services dropped
	// from the spec stay until they are deleted.
	prior := slices.Clone(st.Services)
	applied := slices.Clone(spec.Services)
	for _, p := range prior {
		if spec.Service(p.Name) == nil {
			applied = append(applied, p)
		}
	}
	st.Services = applied
	fail := func(err error) (*sdk.ApplyResponse, error) {
		blob, err := st.blob(err)
		return &sdk.ApplyResponse{State: blob}, err
	}

	if b.cfg.CreateCluster {
		if err := b.ensureCluster(ctx, progress); err != nil {
			return fail(err)
		}
	}
	progress.Infof("", "", "ensuring log group %s", n.logGroup())
	if err := b.ensureLogGroup(ctx, n); err != nil {
		return fail(err)
	}
	nsARN, err := b.ensureNamespace(ctx, n, progress)
	if err != nil {
		return fail(err)
	}
	var lst *listener
	if b.cfg.ListenerARN != "" {
		if lst, err = b.describeListener(ctx); err != nil {
			return fail(err)
		}
	}
	arns, err := b.putSecrets(ctx, n, spec, req.Secrets, st.Salt())
	if err != nil {
		return fail(err)
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
		tds  = map[string]string{} // service -> task definition ARN applied
		olds []string              // services whose revision changed
	)
	for _, name := range spec.StartOrder() {
		svc := spec.Service(name)
		wg.Go(func() {
			td, replaced, err := b.applyService(ctx, n, svc, nsARN, lst, req.Secrets, arns, st.Salt(), progress)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
			}
			tds[name] = td
			if replaced {
				olds = append(olds, name)
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		if ctx.Err() != nil {
			return fail(fmt.Errorf("apply %s: %w", spec.Ref(), ctx.Err()))
		}
		return fail(err)
	}
	if err := b.waitStable(ctx, n, tds, progress); err != nil {
		return fail(err)
	}
	for _, svc := range olds {
		if err := b.deregisterOld(ctx, n.service(svc), tds[svc]); err != nil {
			return fail(err)
		}
	}
	if err := b.pruneSecrets(ctx, n, spec); err != nil {
		return fail(err)
	}
	if err := b.pruneDropped(ctx, n, prior, spec, lst != nil, progress); err != nil {
		return fail(err)
	}
	st.Services = spec.Services
	for name := range st.Stopped {
		delete(st.Stopped, name) // apply makes it so: every service runs its replicas
	}
	blob, err := st.blob(nil)
	if err != nil {
		return nil, err
	}
	progress.Infof("", "", "deployment %s is running on ECS cluster %s", spec.Ref(), b.cfg.Cluster)
	return &sdk.ApplyResponse{State: blob}, nil
}

// pruneDropped deletes what the services and ports of prior that spec no
// longer has leave behind: the ECS services, their listener rules and
// target groups (with a listener), and their Cloud Map services.
func (b *Backend) pruneDropped(ctx context.Context, n namer, prior []core.ServiceSpec, spec core.DeploymentSpec, listener bool, progress *sdk.Progress) error {
	for _, p := range prior {
		if spec.Service(p.Name) == nil {
			progress.Infof(p.Name, "", "deleting service %s", n.service(p.Name))
			if err := b.deleteService(ctx, n, p.Name); err != nil {
				return err
			}
		}
	}
	if listener {
		if err := b.unpublishDropped(ctx, n, prior, spec.Services); err != nil {
			return err
		}
	}
	return b.pruneDiscovery(ctx, n, prior, spec.Services)
}

// ensureLogGroup creates the deployment's log group unless it exists.
func (b *Backend) ensureLogGroup(ctx context.Context, n namer) error {
	_, err := b.clients.logs.CreateLogGroup(ctx, &cloudwatchlogs.CreateLogGroupInput{
		LogGroupName: aws.String(n.logGroup()), Tags: n.tags(""),
	})
	if err != nil && errorCode(err) != "ResourceAlreadyExistsException" {
		return b.awsError("create log group "+n.logGroup(), err)
	}
	if b.cfg.LogRetentionDays > 0 {
		_, err := b.clients.logs.PutRetentionPolicy(ctx, &cloudwatchlogs.PutRetentionPolicyInput{
			LogGroupName: aws.String(n.logGroup()), RetentionInDays: aws.Int32(int32(b.cfg.LogRetentionDays)),
		})
		if err != nil {
			return b.awsError("set the retention of log group "+n.logGroup(), err)
		}
	}
	return nil
}

// ensureCluster creates the configured cluster when it does not exist
// (create_cluster), for Fargate, with Container Insights enhanced.
func (b *Backend) ensureCluster(ctx context.Context, progress *sdk.Progress) error {
	var invalid *sdk.InvalidConfigError
	err := b.checkCluster(ctx)
	if err == nil || !errors.As(err, &invalid) {
		return err
	}
	progress.Infof("", "", "creating ECS cluster %s", b.cfg.Cluster)
	var tags []ecstypes.Tag
	tags = append(tags, ecstypes.Tag{Key: aws.String(tagManagedBy), Value: aws.String("alphaswarm")})
	_, err = b.clients.ecs.CreateCluster(ctx, &ecs.CreateClusterInput{
		ClusterName: aws.String(b.cfg.Cluster), CapacityProviders: []string{"FARGATE", "FARGATE_SPOT"},
		Settings: []ecstypes.ClusterSetting{{Name: ecstypes.ClusterSettingNameContainerInsights, Value: aws.String("enhanced")}},
		Tags:     tags,
	})
	if err != nil {
		return b.awsError("create ECS cluster "+b.cfg.Cluster, err)
	}
	return nil
}

// putSecrets stores the value of every secret reference of the deployment
// in Secrets Manager and returns the secrets' ARNs by reference. The
// version's client request token is a keyed hash of the value, so putting
// the same value again adds no version. Errors name the reference, never
// the value.
func (b *Backend) putSecrets(ctx context.Context, n namer, spec core.DeploymentSpec, values sdk.SecretValues, salt sdk.Salt) (map[string]string, error) {
	arns := map[string]string{}
	for _, svc := range spec.Services {
		for _, r := range svc.SecretEnv {
			if _, done := arns[r.Ref]; done {
				continue
			}
			name := n.secret(r.Ref)
			value := values[r.Ref]
			mac := hmac.New(sha256.New, []byte(salt))
			fmt.Fprintf(mac, "%s\x00%s", r.Ref, value)
			token := hex.EncodeToString(mac.Sum(nil))
			var tags []smtypes.Tag
			for k, v := range n.tags("") {
				tags = append(tags, smtypes.Tag{Key: aws.String(k), Value: aws.String(v)})
			}
			tags = append(tags, smtypes.Tag{Key: aws.String("alphaswarm:secret"), Value: aws.String(tagValue(r.Ref))})
			out, err := b.clients.sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
				Name: aws.String(name), SecretString: aws.String(value), ClientRequestToken: aws.String(token), Tags: tags,
				Description: aws.String("alphaswarm secret " + r.Ref + " of " + n.ref.String()),
			})
			if err == nil {
				arns[r.Ref] = aws.ToString(out.ARN)
				continue
			}
			if errorCode(err) != "ResourceExistsException" {
				return nil, b.awsError(fmt.Sprintf("create secret %s for %s", name, r.Ref), err)
			}
			put, err := b.clients.sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
				SecretId: aws.String(name), SecretString: aws.String(value), ClientRequestToken: aws.String(token),
			})
			if err != nil {
				return nil, b.awsError(fmt.Sprintf("put secret value %s for %s", name, r.Ref), err)
			}
			arns[r.Ref] = aws.ToString(put.ARN)
		}
	}
	return arns, nil
}

// tagValue keeps a tenant's text to what tag values allow (letters,
// digits, spaces and _.:/=+-@, at most 256): a secret reference may hold
// anything.
func tagValue(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', strings.ContainsRune(" _.:/=+-@", r):
			return r
		}
		return '_'
	}, s)
	if len(s) > 256 {
		s = s[:256]
	}
	return s
}

// taskDefinition builds the task definition of svc, and the hash of
// everything it holds plus the keyed hash of its secret values.
func (b *Backend) taskDefinition(n namer, svc *core.ServiceSpec, values sdk.SecretValues, arns map[string]string, salt sdk.Salt) (*ecs.RegisterTaskDefinitionInput, string, error) {
	size, _, err := sizeFor(svc.Resources.CPU, svc.Resources.MemoryBytes)
	if err != nil {
		return nil, "", fmt.Errorf("size service %s: %w", svc.Name, err)
	}
	c := ecstypes.ContainerDefinition{
		Name: aws.String(container), Image: aws.String(svc.Image), Essential: aws.Bool(true),
		EntryPoint: svc.Command, Command: svc.Args,
		LogConfiguration: &ecstypes.LogConfiguration{LogDriver: ecstypes.LogDriverAwslogs, Options: map[string]string{
			"awslogs-group": n.logGroup(), "awslogs-region": b.cfg.Region, "awslogs-stream-prefix": clean(svc.Name),
		}},
	}
	for _, k := range slices.Sorted(maps.Keys(svc.Env)) {
		c.Environment = append(c.Environment, ecstypes.KeyValuePair{Name: aws.String(k), Value: aws.String(svc.Env[k])})
	}
	for _, r := range svc.SecretEnv {
		c.Secrets = append(c.Secrets, ecstypes.Secret{Name: aws.String(r.Env), ValueFrom: aws.String(arns[r.Ref])})
	}
	for _, p := range svc.Ports {
		proto := ecstypes.TransportProtocolTcp
		if p.Protocol == core.ProtocolUDP {
			proto = ecstypes.TransportProtocolUdp
		}
		c.PortMappings = append(c.PortMappings, ecstypes.PortMapping{Name: aws.String(p.Name), ContainerPort: aws.Int32(int32(p.Container)), Protocol: proto})
	}
	if hc := healthCheck(svc); hc != nil {
		c.HealthCheck = hc
	}
	in := &ecs.RegisterTaskDefinitionInput{
		Family: aws.String(n.service(svc.Name)), ContainerDefinitions: []ecstypes.ContainerDefinition{c},
		RequiresCompatibilities: []ecstypes.Compatibility{ecstypes.CompatibilityFargate}, NetworkMode: ecstypes.NetworkModeAwsvpc,
		Cpu: aws.String(strconv.Itoa(size.CPU)), Memory: aws.String(strconv.Itoa(size.Memory)),
		ExecutionRoleArn: aws.String(b.cfg.ExecutionRoleARN),
	}
	if b.cfg.TaskRoleARN != "" {
		in.TaskRoleArn = aws.String(b.cfg.TaskRoleARN)
	}
	raw, err := json.Marshal(in)
	if err != nil {
		return nil, "", fmt.Errorf("encode task definition: %w", err)
	}
	h := sha256.New()
	h.Write(raw)
	h.Write(salt.HashSecrets(svc, values, sdk.SecretsByRef))
	hash := hex.EncodeToString(h.Sum(nil))[:32]
	for k, v := range n.tags(svc.Name) {
		in.Tags = append(in.Tags, ecstypes.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	in.Tags = append(in.Tags, ecstypes.Tag{Key: aws.String(tagHash), Value: aws.String(hash)})
	slices.SortFunc(in.Tags, func(a, b ecstypes.Tag) int { return strings.Compare(*a.Key, *b.Key) })
	return in, hash, nil
}

// healthCheck maps the topology's health check onto a container health
// check. HTTP and TCP checks run inside the container with curl or nc
// through a shell, the only way ECS checks a container: the image needs
// them.
func healthCheck(svc *core.ServiceSpec) *ecstypes.HealthCheck {
	h := svc.Health
	if h == nil {
		return nil
	}
	var cmd []string
	port := func() int {
		for _, p := range svc.Ports {
			if p.Name == h.Port {
				return p.Container
			}
		}
		return 0
	}
	switch h.Kind {
	case core.HealthCheckCommand:
		cmd = append([]string{"CMD"}, h.Command...)
	case core.HealthCheckHTTP:
		cmd = []string{"CMD-SHELL", fmt.Sprintf("curl -fsS -o /dev/null http://localhost:%d%s || exit 1", port(), shellPath(h.Path))}
	case core.HealthCheckTCP:
		cmd = []string{"CMD-SHELL", fmt.Sprintf("nc -z localhost %d || exit 1", port())}
	default:
		return nil
	}
	hc := &ecstypes.HealthCheck{Command: cmd}
	secs := func(d core.Duration, lo, hi int32) *int32 {
		if d == 0 {
			return nil
		}
		return aws.Int32(min(max(int32(d.Std()/time.Second), lo), hi))
	}
	hc.Interval = secs(h.Interval, 5, 300)
	hc.Timeout = secs(h.Timeout, 2, 60)
	hc.StartPeriod = secs(h.StartPeriod, 0, 300)
	if h.Retries > 0 {
		hc.Retries = aws.Int32(int32(min(h.Retries, 10)))
	}
	return hc
}

// shellPath keeps an HTTP path to characters that need no quoting in a
// shell: a tenant's path must not run commands of its own.
func shellPath(p string) string {
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', strings.ContainsRune("/-_.~%=&?", r):
			if r == '&' || r == '?' || r == '=' {
				return '_'
			}
			return r
		}
		return '_'
	}, p)
}

// applyService registers svc's task definition when it changed and creates
// or updates its ECS service.
// It returns the task definition's ARN, and whether it replaced another
// revision, which the caller deregisters once the rollout is done.
func (b *Backend) applyService(ctx context.Context, n namer, svc *core.ServiceSpec, nsARN string, lst *listener, values sdk.SecretValues, arns map[string]string, salt sdk.Salt, progress *sdk.Progress) (string, bool, error) {
	if err := b.waitDrained(ctx, n.service(svc.Name), svc.Name, progress); err != nil {
		return "", false, err
	}
	current, err := b.describeService(ctx, n.service(svc.Name))
	if err != nil {
		return "", false, err
	}
	var lbs []ecstypes.LoadBalancer // nil: no listener, the service's are left alone
	if lst != nil {
		if lbs, err = b.publish(ctx, n, svc, lst, progress); err != nil {
			return "", false, err
		}
	}
	tdArn, err := b.applyServiceTD(ctx, n, svc, current, serviceConnect(svc, nsARN), lbs, values, arns, salt, progress)
	return tdArn, current != nil && tdArn != aws.ToString(current.TaskDefinition), err
}

func (b *Backend) applyServiceTD(ctx context.Context, n namer, svc *core.ServiceSpec, current *ecstypes.Service, sc *ecstypes.ServiceConnectConfiguration, lbs []ecstypes.LoadBalancer, values sdk.SecretValues, arns map[string]string, salt sdk.Salt, progress *sdk.Progress) (tdArn string, err error) {
	name := n.service(svc.Name)
	td, hash, err := b.taskDefinition(n, svc, values, arns, salt)
	if err != nil {
		return "", err
	}
	if current != nil {
		out, err := b.clients.ecs.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{
			TaskDefinition: current.TaskDefinition, Include: []ecstypes.TaskDefinitionField{ecstypes.TaskDefinitionFieldTags},
		})
		if err != nil {
			return "", b.awsError("describe task definition of service "+svc.Name, err)
		}
		for _, t := range out.Tags {
			if aws.ToString(t.Key) == tagHash && aws.ToString(t.Value) == hash {
				tdArn = aws.ToString(current.TaskDefinition)
			}
		}
	}
	if tdArn == "" {
		progress.Infof(svc.Name, "", "registering task definition %s", name)
		out, err := b.clients.ecs.RegisterTaskDefinition(ctx, td)
		if err != nil {
			return "", b.awsError("register task definition of service "+svc.Name, err)
		}
		tdArn = aws.ToString(out.TaskDefinition.TaskDefinitionArn)
	}
	deployCfg := &ecstypes.DeploymentConfiguration{
		MinimumHealthyPercent: aws.Int32(100), MaximumPercent: aws.Int32(200),
		DeploymentCircuitBreaker: &ecstypes.DeploymentCircuitBreaker{Enable: true, Rollback: true},
	}
	if current == nil {
		progress.Infof(svc.Name, "", "creating ECS service %s with %d tasks", name, svc.Replicas)
		var tags []ecstypes.Tag
		want := serviceTags(n, svc)
		for _, k := range slices.Sorted(maps.Keys(want)) {
			tags = append(tags, ecstypes.Tag{Key: aws.String(k), Value: aws.String(want[k])})
		}
		assign := ecstypes.AssignPublicIpDisabled
		if b.cfg.AssignPublicIP {
			assign = ecstypes.AssignPublicIpEnabled
		}
		_, err := b.clients.ecs.CreateService(ctx, &ecs.CreateServiceInput{
			Cluster: aws.String(b.cfg.Cluster), ServiceName: aws.String(name), TaskDefinition: aws.String(tdArn),
			DesiredCount: aws.Int32(int32(svc.Replicas)), LaunchType: ecstypes.LaunchTypeFargate,
			NetworkConfiguration: &ecstypes.NetworkConfiguration{AwsvpcConfiguration: &ecstypes.AwsVpcConfiguration{
				Subnets: b.cfg.Subnets, SecurityGroups: b.cfg.SecurityGroups, AssignPublicIp: assign,
			}},
			DeploymentConfiguration: deployCfg, PropagateTags: ecstypes.PropagateTagsService, EnableECSManagedTags: true, Tags: tags,
			ServiceConnectConfiguration: sc, LoadBalancers: lbs,
		})
		// A service created a moment ago may not be visible yet (ECS is
		// eventually consistent): update it instead.
		if err == nil {
			return tdArn, nil
		}
		if errorCode(err) != "InvalidParameterException" || !strings.Contains(err.Error(), "not idempotent") {
			return "", b.awsError("create ECS service for "+svc.Name, err)
		}
		current = &ecstypes.Service{}
	}
	if current.ServiceArn != nil {
		if err := b.retag(ctx, current, serviceTags(n, svc)); err != nil {
			return "", err
		}
	}
	if tdArn == aws.ToString(current.TaskDefinition) && int(current.DesiredCount) == svc.Replicas && sameServiceConnect(current, sc) &&
		(lbs == nil || sameLoadBalancers(current, lbs)) {
		progress.Infof(svc.Name, "", "service %s is up to date", name)
		return tdArn, nil
	}
	progress.Infof(svc.Name, "", "updating ECS service %s: %d tasks", name, svc.Replicas)
	_, err = b.clients.ecs.UpdateService(ctx, &ecs.UpdateServiceInput{
		Cluster: aws.String(b.cfg.Cluster), Service: aws.String(name), TaskDefinition: aws.String(tdArn),
		DesiredCount: aws.Int32(int32(svc.Replicas)), DeploymentConfiguration: deployCfg, ServiceConnectConfiguration: sc,
		LoadBalancers: lbs,
	})
	if err != nil {
		return "", b.awsError("update ECS service for "+svc.Name, err)
	}
	return tdArn, nil
}

// waitDrained waits while a service of the name is DRAINING (a destroy
// moments ago): ECS refuses to create one of the same name until it is
// INACTIVE.
func (b *Backend) waitDrained(ctx context.Context, name, svc string, progress *sdk.Progress) error {
	reported := false
	return sdk.Poll(ctx, sdk.PollOptions{Interval: 200 * time.Millisecond, MaxInterval: 5 * time.Second, Timeout: b.cfg.rolloutTimeout},
		func(ctx context.Context) (bool, error) {
			cur, err := b.describeAny(ctx, name)
			if err != nil || cur == nil || aws.ToString(cur.Status) != "DRAINING" {
				return true, err
			}
			if !reported {
				reported = true
				progress.Infof(svc, "", "waiting for the ECS service %s of a destroy to finish draining", name)
			}
			return false, nil
		})
}

// serviceTags are the tags of svc's ECS service: the plugin's and the
// labels that can be tags.
func serviceTags(n namer, svc *core.ServiceSpec) map[string]string {
	tags, _ := labelTags(svc.Labels)
	maps.Copy(tags, n.tags(svc.Name))
	return tags
}

// retag brings the labels among a service's tags to want: it adds and
// changes with TagResource, and removes the labels no longer asked for
// with UntagResource. New tasks get them; running tasks keep theirs.
func (b *Backend) retag(ctx context.Context, svc *ecstypes.Service, want map[string]string) error {
	have := map[string]string{}
	for _, t := range svc.Tags {
		have[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	var add []ecstypes.Tag
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if v, ok := have[k]; !ok || v != want[k] {
			add = append(add, ecstypes.Tag{Key: aws.String(k), Value: aws.String(want[k])})
		}
	}
	var remove []string
	for _, k := range slices.Sorted(maps.Keys(have)) {
		if _, ok := want[k]; !ok && !isOurs(k) && !strings.HasPrefix(k, "aws:") {
			remove = append(remove, k)
		}
	}
	if len(remove) > 0 {
		if _, err := b.clients.ecs.UntagResource(ctx, &ecs.UntagResourceInput{ResourceArn: svc.ServiceArn, TagKeys: remove}); err != nil {
			return b.awsError("untag ECS service "+aws.ToString(svc.ServiceName), err)
		}
	}
	if len(add) > 0 {
		if _, err := b.clients.ecs.TagResource(ctx, &ecs.TagResourceInput{ResourceArn: svc.ServiceArn, Tags: add}); err != nil {
			return b.awsError("tag ECS service "+aws.ToString(svc.ServiceName), err)
		}
	}
	return nil
}

// describeService returns the ECS service name when it is active or
// draining; nil when it is missing or inactive.
func (b *Backend) describeService(ctx context.Context, name string) (*ecstypes.Service, error) {
	out, err := b.clients.ecs.DescribeServices(ctx, &ecs.DescribeServicesInput{
		Cluster: aws.String(b.cfg.Cluster), Services: []string{name}, Include: []ecstypes.ServiceField{ecstypes.ServiceFieldTags},
	})
	if err != nil {
		return nil, b.awsError("describe ECS service "+name, err)
	}
	for i := range out.Services {
		if aws.ToString(out.Services[i].Status) == "ACTIVE" {
			return &out.Services[i], nil
		}
	}
	return nil, nil
}

// waitStable polls until the deployment of each service's task definition
// (tds: service -> ARN) has completed its rollout, reporting changes of
// its counts as progress. A rollout the circuit breaker stopped is an error
// quoting why the tasks stopped.
func (b *Backend) waitStable(ctx context.Context, n namer, tds map[string]string, progress *sdk.Progress) error {
	last := map[string]string{}
	pending := map[string]bool{}
	for s := range tds {
		pending[s] = true
	}
	err := sdk.Poll(ctx, sdk.PollOptions{Interval: 200 * time.Millisecond, MaxInterval: 5 * time.Second, Multiplier: 1.5, Timeout: b.cfg.rolloutTimeout},
		func(ctx context.Context) (bool, error) {
			names := slices.Sorted(maps.Keys(pending))
			for chunk := range slices.Chunk(names, 10) {
				byName := map[string]string{}
				var ecsNames []string
				for _, s := range chunk {
					byName[n.service(s)] = s
					ecsNames = append(ecsNames, n.service(s))
				}
				out, err := b.clients.ecs.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: aws.String(b.cfg.Cluster), Services: ecsNames})
				if err != nil {
					if ctx.Err() != nil {
						return false, err
					}
					return false, b.awsError("describe ECS services", err)
				}
				for _, svc := range out.Services {
					name := byName[aws.ToString(svc.ServiceName)]
					var d *ecstypes.Deployment
					for i := range svc.Deployments {
						if aws.ToString(svc.Deployments[i].TaskDefinition) == tds[name] {
							d = &svc.Deployments[i]
							break
						}
					}
					if d == nil {
						return false, fmt.Errorf("roll out service %s: ECS rolled the deployment back%s", name, b.failureReasons(ctx, svc, tds[name]))
					}
					line := fmt.Sprintf("rollout %s: %d running, %d pending of %d", strings.ToLower(string(d.RolloutState)), d.RunningCount, d.PendingCount, d.DesiredCount)
					if d.FailedTasks > 0 {
						line += fmt.Sprintf(", %d failed", d.FailedTasks)
					}
					if line != last[name] {
						last[name] = line
						progress.Infof(name, "", "%s", line)
					}
					switch d.RolloutState {
					case ecstypes.DeploymentRolloutStateFailed:
						return false, fmt.Errorf("roll out service %s: %s%s", name, strings.TrimSuffix(aws.ToString(d.RolloutStateReason), "."), b.failureReasons(ctx, svc, tds[name]))
					case ecstypes.DeploymentRolloutStateCompleted:
						if len(svc.Deployments) == 1 && d.RunningCount == d.DesiredCount {
							delete(pending, name)
						}
					}
				}
			}
			return len(pending) == 0, nil
		})
	if errors.Is(err, sdk.ErrPollTimeout) {
		return fmt.Errorf("wait for rollout of %v: %w", slices.Sorted(maps.Keys(pending)), err)
	}
	return err
}

// failureReasons quotes why the tasks of task definition td of svc did not
// run: the stopped tasks' reasons or, when no task stopped, ECS's newest
// event since td's deployment began saying it could not place a task (a
// task the Fargate vCPU quota keeps out is never created, so only the
// service's events say why; an older event may be about another rollout).
func (b *Backend) failureReasons(ctx context.Context, svc ecstypes.Service, td string) string {
	if reasons := b.stoppedReasons(ctx, svc, td); reasons != "" {
		return reasons
	}
	var since time.Time
	for _, d := range svc.Deployments {
		if aws.ToString(d.TaskDefinition) == td {
			since = aws.ToTime(d.CreatedAt)
		}
	}
	for _, ev := range svc.Events {
		if msg := aws.ToString(ev.Message); strings.Contains(msg, "unable to place a task") && !aws.ToTime(ev.CreatedAt).Before(since) {
			return ": ECS says " + msg
		}
	}
	return ""
}

// stoppedReasons quotes why the stopped tasks of task definition td of svc
// stopped, as ": <reason>; <reason>", or "".
func (b *Backend) stoppedReasons(ctx context.Context, svc ecstypes.Service, td string) string {
	list, err := b.clients.ecs.ListTasks(ctx, &ecs.ListTasksInput{Cluster: aws.String(b.cfg.Cluster), ServiceName: svc.ServiceName,
		DesiredStatus: ecstypes.DesiredStatusStopped})
	if err != nil || len(list.TaskArns) == 0 {
		return ""
	}
	out, err := b.clients.ecs.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(b.cfg.Cluster), Tasks: list.TaskArns[:min(len(list.TaskArns), 100)]})
	if err != nil {
		return ""
	}
	var reasons []string
	for _, t := range out.Tasks {
		if r := aws.ToString(t.StoppedReason); r != "" && aws.ToString(t.TaskDefinitionArn) == td && !slices.Contains(reasons, r) {
			reasons = append(reasons, r)
		}
	}
	if len(reasons) == 0 {
		return ""
	}
	return ": tasks stopped: " + strings.Join(reasons, "; ")
}

// deregisterOld deregisters the revisions of family other than keep.
func (b *Backend) deregisterOld(ctx context.Context, family, keep string) error {
	p := ecs.NewListTaskDefinitionsPaginator(b.clients.ecs, &ecs.ListTaskDefinitionsInput{FamilyPrefix: aws.String(family), Status: ecstypes.TaskDefinitionStatusActive})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return b.awsError("list task definitions of "+family, err)
		}
		for _, arn := range page.TaskDefinitionArns {
			if arn == keep || familyOf(arn) != family {
				continue
			}
			if _, err := b.clients.ecs.DeregisterTaskDefinition(ctx, &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String(arn)}); err != nil {
				return b.awsError("deregister task definition "+arn, err)
			}
		}
	}
	return nil
}

// pruneSecrets deletes the deployment's secrets that no service refers to
// any more, once the rollouts no longer need them.
func (b *Backend) pruneSecrets(ctx context.Context, n namer, spec core.DeploymentSpec) error {
	used := map[string]bool{}
	for _, s := range spec.Services {
		for _, r := range s.SecretEnv {
			used[n.secret(r.Ref)] = true
		}
	}
	return b.eachSecret(ctx, n, func(name, arn string) error {
		if used[name] {
			return nil
		}
		_, err := b.clients.sm.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String(arn), ForceDeleteWithoutRecovery: aws.Bool(true)})
		if err != nil && errorCode(err) != "ResourceNotFoundException" {
			return b.awsError("delete secret "+name, err)
		}
		return nil
	})
}
