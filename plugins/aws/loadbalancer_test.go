package aws_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/plugins/aws"
	"github.com/alphaswarm/controller/sdk"
)

// TestPublishedPorts: with the operator's listener, a published port gets
// a target group of type ip and a path rule on the listener, the ECS
// service registers its tasks in it, plan says where the port is
// published, re-applying adds nothing, and destroy removes them; without a
// listener the plan keeps saying the port is dropped.
func TestPublishedPorts(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	listenerARN := emu.CreateListener("ops", "vpc-0a1b2c3d")
	c := configured(t, configWith("name_prefix", "lb", "listener_arn", listenerARN))
	spec := newSpec("acme", "api", "web")
	spec.Services[0].Ports = []core.Port{{Name: "http", Container: 8080, Host: 80, Protocol: core.ProtocolTCP}, {Name: "admin", Container: 9090, Protocol: core.ProtocolTCP}}
	path := "/acme/test/" + spec.Name + "/api/http"

	plan, err := c.Plan(ctx, &sdk.PlanRequest{Deployment: spec})
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	found := false
	for _, note := range plan.Compatibility {
		if note.Field == "port.http.host" {
			found = note.Level == sdk.CompatApproximated && strings.Contains(note.Detail, path)
		}
	}
	if !found {
		t.Errorf("plan does not say port http is published at %s: %+v", path, plan.Compatibility)
	}

	state, _, err := apply(ctx, c, spec, nil, nil)
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	snap := emu.Snapshot()
	var tgs []string
	for name, tg := range snap.TargetGroups {
		if owned(tg.Tags, spec) {
			tgs = append(tgs, name)
			if tg.TargetType != "ip" || tg.Port != 8080 || tg.Protocol != "HTTP" {
				t.Errorf("target group %s: %+v, want ip, HTTP, 8080", name, tg)
			}
		}
	}
	if len(tgs) != 1 || len(tgs[0]) > 32 {
		t.Fatalf("target groups of the deployment %v, want one of at most 32 characters", tgs)
	}
	var rules []string
	for _, r := range snap.Rules {
		if owned(r.Tags, spec) {
			rules = append(rules, fmt.Sprint(r.Paths, r.TargetGroup))
		}
	}
	if want := fmt.Sprint([]string{path, path + "/*"}, tgs[0]); len(rules) != 1 || rules[0] != want {
		t.Errorf("listener rules of the deployment %v, want [%s]", rules, want)
	}
	for _, svc := range snap.Services {
		switch svc.ServiceName {
		case aws.ServiceName("lb", spec.Ref(), "api"):
			if len(svc.LoadBalancers) != 1 || svc.LoadBalancers[0].TargetGroupArn != snap.TargetGroups[tgs[0]].ARN ||
				svc.LoadBalancers[0].ContainerName != "app" || svc.LoadBalancers[0].ContainerPort != 8080 {
				t.Errorf("api's load balancers %+v, want the target group on app:8080", svc.LoadBalancers)
			}
		case aws.ServiceName("lb", spec.Ref(), "web"):
			if len(svc.LoadBalancers) != 0 {
				t.Errorf("web publishes nothing but has load balancers %+v", svc.LoadBalancers)
			}
		}
	}

	// Only this test creates rules, so the calls count.
	creates := emu.Calls("elasticloadbalancing.CreateRule")
	if _, _, err := apply(ctx, c, spec, state, nil); err != nil {
		t.Fatalf("apply again: %v", err)
	}
	if n := emu.Calls("elasticloadbalancing.CreateRule"); n != creates {
		t.Errorf("re-apply created %d rules", n-creates)
	}

	if _, err := c.Destroy(ctx, &sdk.DestroyRequest{Deployment: spec.Ref(), State: state, RemoveData: true}); err != nil {
		t.Fatalf("destroy: %v", err)
	}
	if left := leftovers(spec); len(left) > 0 {
		t.Errorf("destroy left %v", left)
	}

	// Without a listener: dropped, as before.
	plain := configured(t, configWith())
	plan, err = plain.Plan(ctx, &sdk.PlanRequest{Deployment: spec})
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	if !slices.ContainsFunc(plan.Compatibility, func(n sdk.CompatibilityNote) bool {
		return n.Field == "port.http.host" && n.Level == sdk.CompatDropped && strings.Contains(n.Detail, "listener_arn")
	}) {
		t.Errorf("plan without a listener does not drop the published port: %+v", plan.Compatibility)
	}
}
