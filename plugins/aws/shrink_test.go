package aws_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/plugins/aws"
	"github.com/alphaswarm/controller/plugins/aws/internal/awsemu"
	"github.com/alphaswarm/controller/sdk"
)

// published is what the emulator holds of a deployment that a shrinking
// apply must prune: listener rule paths, target group ports, Cloud Map
// service names, active ECS services and task definition families.
type published struct {
	Rules, Discovery, Services, Families []string
	TargetGroupPorts                     []int
}

func publishedOf(snap awsemu.Snapshot, spec core.DeploymentSpec) published {
	var p published
	for _, r := range snap.Rules {
		if owned(r.Tags, spec) {
			p.Rules = append(p.Rules, r.Paths[0])
		}
	}
	for _, tg := range snap.TargetGroups {
		if owned(tg.Tags, spec) {
			p.TargetGroupPorts = append(p.TargetGroupPorts, tg.Port)
		}
	}
	for _, ns := range snap.Namespaces {
		if owned(ns.Tags, spec) {
			p.Discovery = append(p.Discovery, ns.Services...)
		}
	}
	for _, s := range snap.Services {
		if owned(tagMap(s.Tags), spec) && s.Status == "ACTIVE" {
			p.Services = append(p.Services, tagMap(s.Tags)["alphaswarm:service"])
		}
	}
	for _, td := range snap.TaskDefinitions {
		if tags := tagMap(snap.TaskDefinitionTags[td.TaskDefinitionArn]); owned(tags, spec) && td.Status == "ACTIVE" {
			p.Families = append(p.Families, tags["alphaswarm:service"])
		}
	}
	for _, s := range [][]string{p.Rules, p.Discovery, p.Services, p.Families} {
		slices.Sort(s)
	}
	slices.Sort(p.TargetGroupPorts)
	return p
}

// TestShrinkingApplyLeavesNothing applies two services with published
// ports, then the spec without one service and with a port fewer: the
// apply deletes the ECS service, the target groups and listener rules of
// the ports no longer published, and the Cloud Map services of the names
// no longer served, which ECS leaves behind.
func TestShrinkingApplyLeavesNothing(t *testing.T) {
	// Not parallel: TestPublishedPorts counts the listener rules created
	// while it runs.
	listenerARN := emu.CreateListener("shrink", "vpc-0a1b2c3d")
	c := configured(t, configWith("name_prefix", "sh", "listener_arn", listenerARN))
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	spec := newSpec("acme", "api", "web")
	spec.Services[0].Ports = []core.Port{
		{Name: "http", Container: 8080, Host: 80, Protocol: core.ProtocolTCP},
		{Name: "admin", Container: 9090, Host: 81, Protocol: core.ProtocolTCP},
	}
	spec.Services[1].Ports = []core.Port{{Name: "http", Container: 8080, Host: 80, Protocol: core.ProtocolTCP}}
	base := "/acme/test/" + spec.Name + "/"

	state, _, err := apply(ctx, c, spec, nil, nil)
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	want := published{
		Rules: []string{base + "api/admin", base + "api/http", base + "web/http"}, TargetGroupPorts: []int{8080, 8080, 9090},
		Discovery: []string{"api", "api-admin", "web"}, Services: []string{"api", "web"}, Families: []string{"api", "web"},
	}
	if diff := cmp.Diff(want, publishedOf(emu.Snapshot(), spec)); diff != "" {
		t.Fatalf("after the first apply (-want +got):\n%s", diff)
	}

	spec.Services = spec.Services[:1]
	spec.Services[0].Ports = spec.Services[0].Ports[:1]
	if state, _, err = apply(ctx, c, spec, state, nil); err != nil {
		t.Fatalf("apply without web and api's admin port: %v", err)
	}
	want = published{Rules: []string{base + "api/http"}, TargetGroupPorts: []int{8080}, Discovery: []string{"api"}, Services: []string{"api"}, Families: []string{"api"}}
	if diff := cmp.Diff(want, publishedOf(emu.Snapshot(), spec)); diff != "" {
		t.Errorf("after the shrinking apply (-want +got):\n%s", diff)
	}
	if svc := serviceNamed(aws.ServiceName("sh", spec.Ref(), "api")); svc == nil || len(svc.LoadBalancers) != 1 || svc.LoadBalancers[0].ContainerPort != 8080 {
		t.Errorf("api's load balancers after the shrinking apply: %+v, want the http port's alone", svc)
	}

	if _, err := c.Destroy(ctx, &sdk.DestroyRequest{Deployment: spec.Ref(), State: state, RemoveData: true}); err != nil {
		t.Fatalf("destroy: %v", err)
	}
	if left := leftovers(spec); len(left) > 0 {
		t.Errorf("destroy left %v", left)
	}
}

// serviceNamed returns the active or draining ECS service of the name.
func serviceNamed(name string) *awsemu.Service {
	for _, s := range emu.Snapshot().Services {
		if s.ServiceName == name {
			return &s
		}
	}
	return nil
}
