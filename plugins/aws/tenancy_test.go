package aws_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/sdk"
)

// TestTenantsStayApart applies, for two tenants whose tenant and
// environment names join alike (a + b-c, a-b + c), the same deployment,
// service and secret reference: every name differs, each secret holds its
// tenant's value under its tenant's path, and destroying one deployment
// leaves the other as it was.
func TestTenantsStayApart(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c := configured(t, configWith())
	specs := []core.DeploymentSpec{newSpec("ta", "api"), newSpec("ta-b", "api")}
	specs[0].Environment, specs[1].Environment = "b-c", "c"
	specs[1].Name = specs[0].Name
	states := make([][]byte, 2)
	for i := range specs {
		specs[i].Services[0].SecretEnv = []core.SecretRef{{Env: "TOKEN", Ref: "shared/token"}}
		var err error
		states[i], _, err = apply(ctx, c, specs[i], nil, sdk.SecretValues{"shared/token": "value-of-" + specs[i].Tenant})
		if err != nil {
			t.Fatalf("apply %s: %v", specs[i].Ref(), err)
		}
		defer c.Destroy(context.Background(), &sdk.DestroyRequest{Deployment: specs[i].Ref(), State: states[i], RemoveData: true}) //nolint:errcheck
	}
	a, b := serviceOf(t, specs[0]), serviceOf(t, specs[1])
	if a.ServiceName == b.ServiceName {
		t.Errorf("both deployments run as service %s", a.ServiceName)
	}
	snap := emu.Snapshot()
	for i, spec := range specs {
		n := 0
		for name, s := range snap.Secrets {
			if owned(s.Tags, spec) {
				n++
				if s.Value != "value-of-"+spec.Tenant || !strings.HasPrefix(name, "as/"+spec.Tenant+"/"+spec.Environment+"/") {
					t.Errorf("tenant %s's secret %s holds another value or lies outside its path", spec.Tenant, name)
				}
			}
		}
		if n != 1 {
			t.Errorf("deployment %d has %d secrets, want 1", i, n)
		}
	}
	if _, err := c.Destroy(ctx, &sdk.DestroyRequest{Deployment: specs[0].Ref(), State: states[0], RemoveData: true}); err != nil {
		t.Fatal(err)
	}
	if left := leftovers(specs[0]); len(left) > 0 {
		t.Errorf("destroy left %v", left)
	}
	after := serviceOf(t, specs[1])
	if after.Status != "ACTIVE" || after.TaskDefinition != b.TaskDefinition {
		t.Errorf("destroying tenant %s's deployment touched tenant %s's: %s %s", specs[0].Tenant, specs[1].Tenant, after.Status, after.TaskDefinition)
	}
	resp, err := c.Status(ctx, &sdk.StatusRequest{Deployment: specs[1].Ref(), State: states[1]})
	if err != nil || resp.Status.Health != core.HealthReady {
		t.Errorf("the other deployment after destroy: %+v %v, want ready", resp, err)
	}
	// Without state, status finds only the deployment's own services.
	resp, err = c.Status(ctx, &sdk.StatusRequest{Deployment: specs[0].Ref()})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range resp.Status.Services {
		if s.Health != core.HealthMissing || len(s.Replicas) > 0 {
			t.Errorf("the destroyed deployment shows %+v, found by another's tags", s)
		}
	}
}
