package aws

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/sdk"
)

// Published ports go through the operator's application load balancer
// listener (listener_arn): per published TCP port a target group of type
// ip (the tasks' awsvpc addresses) and a listener rule forwarding the
// path /<tenant>/<environment>/<deployment>/<service>/<port name> and
// everything under it. A path rather than a host header: it needs no DNS
// name per service and no certificate beyond the listener's.

const (
	maxTargetGroupName = 32
	maxPathPattern     = 128
)

// publishedPrefix starts the paths of every published port of the
// deployment, and of no other deployment.
func (n namer) publishedPrefix() string {
	return "/" + n.ref.Tenant + "/" + n.ref.Environment + "/" + n.ref.Name + "/"
}

// publishedPath is the path the port of svc is published at.
func (n namer) publishedPath(svc, port string) string {
	return n.publishedPrefix() + svc + "/" + port
}

// targetGroup is the target group name of the port of svc: at most 32
// characters, so mostly the hash.
func (n namer) targetGroup(svc, port string) string {
	base := clean(n.prefix + "-" + svc + "-" + port)
	return fit(base, hash8(n.prefix, n.ref.Tenant, n.ref.Environment, n.ref.Name, svc, port), maxTargetGroupName)
}

// published are the ports of svc the listener publishes.
func published(svc *core.ServiceSpec) []core.Port {
	var out []core.Port
	for _, p := range svc.Ports {
		if p.Host != 0 && p.Protocol != core.ProtocolUDP {
			out = append(out, p)
		}
	}
	return out
}

// listener is what apply learns of the operator's listener once: the VPC
// of its load balancer (target groups need it) and its rules.
type listener struct {
	vpc   string
	rules []elbtypes.Rule
}

// describeListener finds the listener's VPC and rules.
func (b *Backend) describeListener(ctx context.Context) (*listener, error) {
	arn := b.cfg.ListenerARN
	out, err := b.clients.elb.DescribeListeners(ctx, &elb.DescribeListenersInput{ListenerArns: []string{arn}})
	if err != nil {
		return nil, b.awsError("describe load balancer listener "+arn, err)
	}
	if len(out.Listeners) == 0 {
		return nil, sdk.InvalidConfig("listener_arn", "load balancer listener %s does not exist", arn)
	}
	lbs, err := b.clients.elb.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{LoadBalancerArns: []string{aws.ToString(out.Listeners[0].LoadBalancerArn)}})
	if err != nil {
		return nil, b.awsError("describe the load balancer of listener "+arn, err)
	}
	if len(lbs.LoadBalancers) == 0 {
		return nil, fmt.Errorf("describe the load balancer of listener %s: not found", arn)
	}
	l := &listener{vpc: aws.ToString(lbs.LoadBalancers[0].VpcId)}
	l.rules, err = b.listenerRules(ctx)
	return l, err
}

// listenerRules lists the rules of the operator's listener.
func (b *Backend) listenerRules(ctx context.Context) ([]elbtypes.Rule, error) {
	var rules []elbtypes.Rule
	in := &elb.DescribeRulesInput{ListenerArn: aws.String(b.cfg.ListenerARN)}
	for {
		page, err := b.clients.elb.DescribeRules(ctx, in)
		if err != nil {
			return nil, b.awsError("describe the rules of listener "+b.cfg.ListenerARN, err)
		}
		rules = append(rules, page.Rules...)
		if aws.ToString(page.NextMarker) == "" {
			return rules, nil
		}
		in.Marker = page.NextMarker
	}
}

// rulePaths are the path patterns of a rule's conditions.
func rulePaths(r elbtypes.Rule) []string {
	var paths []string
	for _, c := range r.Conditions {
		if aws.ToString(c.Field) == "path-pattern" && c.PathPatternConfig != nil {
			paths = append(paths, c.PathPatternConfig.Values...)
		}
	}
	return paths
}

// ruleTarget is the target group a rule forwards to.
func ruleTarget(r elbtypes.Rule) string {
	for _, a := range r.Actions {
		if a.Type == elbtypes.ActionTypeEnumForward {
			return aws.ToString(a.TargetGroupArn)
		}
	}
	return ""
}

// publish makes a target group and a listener rule for each published
// port of svc, and returns the service's load balancers.
func (b *Backend) publish(ctx context.Context, n namer, svc *core.ServiceSpec, l *listener, progress *sdk.Progress) ([]ecstypes.LoadBalancer, error) {
	lbs := []ecstypes.LoadBalancer{}
	for _, p := range published(svc) {
		name := n.targetGroup(svc.Name, p.Name)
		path := n.publishedPath(svc.Name, p.Name)
		if len(path)+2 > maxPathPattern {
			return nil, fmt.Errorf("publish port %s of service %s: the path %s is longer than a listener rule allows (%d)", p.Name, svc.Name, path, maxPathPattern)
		}
		var tags []elbtypes.Tag
		for k, v := range n.tags(svc.Name) {
			tags = append(tags, elbtypes.Tag{Key: aws.String(k), Value: aws.String(v)})
		}
		slices.SortFunc(tags, func(a, b elbtypes.Tag) int { return strings.Compare(*a.Key, *b.Key) })
		tg, err := b.clients.elb.CreateTargetGroup(ctx, &elb.CreateTargetGroupInput{
			Name: aws.String(name), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(int32(p.Container)), VpcId: aws.String(l.vpc),
			TargetType: elbtypes.TargetTypeEnumIp, HealthCheckPath: aws.String("/"), Matcher: &elbtypes.Matcher{HttpCode: aws.String("200-499")},
			Tags: tags,
		})
		if err != nil {
			return nil, b.awsError(fmt.Sprintf("create target group %s for port %s of service %s", name, p.Name, svc.Name), err)
		}
		tgARN := aws.ToString(tg.TargetGroups[0].TargetGroupArn)
		lbs = append(lbs, ecstypes.LoadBalancer{TargetGroupArn: aws.String(tgARN), ContainerName: aws.String(container), ContainerPort: aws.Int32(int32(p.Container))})
		exists := false
		for _, r := range l.rules {
			exists = exists || (slices.Contains(rulePaths(r), path) && ruleTarget(r) == tgARN)
		}
		if exists {
			continue
		}
		progress.Infof(svc.Name, "", "publishing port %s at %s* on the load balancer", p.Name, path)
		if err := b.createRule(ctx, path, tgARN, tags); err != nil {
			return nil, fmt.Errorf("publish port %s of service %s: %w", p.Name, svc.Name, err)
		}
	}
	return lbs, nil
}

// createRule adds the listener rule forwarding path to the target group,
// at a priority derived from the path, or the next free one.
func (b *Backend) createRule(ctx context.Context, path, tgARN string, tags []elbtypes.Tag) error {
	h, _ := strconv.ParseUint(hash8(path), 16, 64)
	priority := int32(1 + h%49000)
	for range 50 {
		_, err := b.clients.elb.CreateRule(ctx, &elb.CreateRuleInput{
			ListenerArn: aws.String(b.cfg.ListenerARN), Priority: aws.Int32(priority),
			Conditions: []elbtypes.RuleCondition{{Field: aws.String("path-pattern"),
				PathPatternConfig: &elbtypes.PathPatternConditionConfig{Values: []string{path, path + "/*"}}}},
			Actions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(tgARN)}},
			Tags:    tags,
		})
		if errorCode(err) == "PriorityInUse" {
			priority = priority%50000 + 1
			continue
		}
		if err != nil {
			return b.awsError("create listener rule for "+path, err)
		}
		return nil
	}
	return fmt.Errorf("create listener rule for %s: no free priority near %d", path, priority)
}

// sameLoadBalancers reports whether cur registers its tasks in want.
func sameLoadBalancers(cur *ecstypes.Service, want []ecstypes.LoadBalancer) bool {
	key := func(lb ecstypes.LoadBalancer) string {
		return aws.ToString(lb.TargetGroupArn) + "\x00" + aws.ToString(lb.ContainerName) + "\x00" + strconv.Itoa(int(aws.ToInt32(lb.ContainerPort)))
	}
	var have, wants []string
	for _, lb := range cur.LoadBalancers {
		have = append(have, key(lb))
	}
	for _, lb := range want {
		wants = append(wants, key(lb))
	}
	slices.Sort(have)
	slices.Sort(wants)
	return slices.Equal(have, wants)
}

// unpublishRules deletes the deployment's rules from the listener, but
// those forwarding a path in keep, and returns the target groups they
// forwarded to.
func (b *Backend) unpublishRules(ctx context.Context, n namer, keep map[string]bool) ([]string, error) {
	rules, err := b.listenerRules(ctx)
	if err != nil {
		return nil, err
	}
	var tgs []string
	for _, r := range rules {
		ours, kept := false, false
		for _, p := range rulePaths(r) {
			ours = ours || strings.HasPrefix(p, n.publishedPrefix())
			kept = kept || keep[p]
		}
		if !ours || kept || aws.ToBool(r.IsDefault) {
			continue
		}
		if t := ruleTarget(r); t != "" {
			tgs = append(tgs, t)
		}
		_, err := b.clients.elb.DeleteRule(ctx, &elb.DeleteRuleInput{RuleArn: r.RuleArn})
		if err != nil && errorCode(err) != "RuleNotFound" {
			return nil, b.awsError("delete listener rule "+aws.ToString(r.RuleArn), err)
		}
	}
	return tgs, nil
}

// deleteTargetGroups deletes the target groups arns and those named for
// the published ports of services, waiting while ECS services still
// draining use them.
func (b *Backend) deleteTargetGroups(ctx context.Context, n namer, arns []string, services []core.ServiceSpec) error {
	for _, svc := range services {
		for _, p := range published(&svc) {
			name := n.targetGroup(svc.Name, p.Name)
			out, err := b.clients.elb.DescribeTargetGroups(ctx, &elb.DescribeTargetGroupsInput{Names: []string{name}})
			if errorCode(err) == "TargetGroupNotFound" {
				continue
			}
			if err != nil {
				return b.awsError("describe target group "+name, err)
			}
			for _, tg := range out.TargetGroups {
				if arn := aws.ToString(tg.TargetGroupArn); !slices.Contains(arns, arn) {
					arns = append(arns, arn)
				}
			}
		}
	}
	for _, arn := range arns {
		err := sdk.Poll(ctx, sdk.PollOptions{Interval: 200 * time.Millisecond, MaxInterval: 3 * time.Second, Timeout: b.cfg.rolloutTimeout},
			func(ctx context.Context) (bool, error) {
				_, err := b.clients.elb.DeleteTargetGroup(ctx, &elb.DeleteTargetGroupInput{TargetGroupArn: aws.String(arn)})
				switch errorCode(err) {
				case "", "TargetGroupNotFound":
					return true, nil
				case "ResourceInUse":
					return false, nil // an ECS service still drains
				}
				return false, b.awsError("delete target group "+arn, err)
			})
		if err != nil {
			if errors.Is(err, sdk.ErrPollTimeout) {
				return fmt.Errorf("delete target group %s: still in use: %w", arn, err)
			}
			return err
		}
	}
	return nil
}

// unpublishDropped deletes the listener rules and target groups of the
// ports that prior published and spec no longer does (a service removed,
// a port dropped or no longer published), once the services no longer
// register tasks in them.
func (b *Backend) unpublishDropped(ctx context.Context, n namer, prior, spec []core.ServiceSpec) error {
	keep := map[string]bool{}
	for i := range spec {
		for _, p := range published(&spec[i]) {
			keep[n.publishedPath(spec[i].Name, p.Name)] = true
		}
	}
	var dropped []core.ServiceSpec // the prior services, with their dropped ports only
	for i := range prior {
		gone := core.ServiceSpec{Name: prior[i].Name}
		for _, p := range published(&prior[i]) {
			if !keep[n.publishedPath(prior[i].Name, p.Name)] {
				gone.Ports = append(gone.Ports, p)
			}
		}
		if len(gone.Ports) > 0 {
			dropped = append(dropped, gone)
		}
	}
	if len(dropped) == 0 {
		return nil
	}
	tgs, err := b.unpublishRules(ctx, n, keep)
	if err != nil {
		return err
	}
	return b.deleteTargetGroups(ctx, n, tgs, dropped)
}
