package azure_test

import (
	"strings"
	"testing"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/sdk"
)

// TestVolumesAreRefused: a topology volume is named and persistent, which
// Container Apps' per-replica EmptyDir is not; validate refuses it and plan
// reports it as an error, both saying why, rather than losing data.
func TestVolumesAreRefused(t *testing.T) {
	t.Parallel()
	b := configured(t, nil)
	spec := core.DeploymentSpec{Tenant: "acme", Environment: "prod", Name: unique("vols"), Services: []core.ServiceSpec{{
		Name: "db", Image: "registry.example/db:1", Replicas: 1,
		Volumes: []core.VolumeMount{{Volume: "pgdata", Path: "/var/lib/postgresql/data"}},
	}}}
	v, err := b.Validate(ctxFor(t), &sdk.ValidateRequest{Deployment: spec})
	if err != nil {
		t.Fatalf("validate: %v", err)
	}
	var found bool
	for _, d := range v.Diagnostics {
		if d.Path == "service.db.volume.pgdata" && d.Severity == sdk.SeverityError && strings.Contains(d.Summary, "EmptyDir") {
			found = true
		}
	}
	if !found {
		t.Errorf("validate diagnostics %+v, want an error at service.db.volume.pgdata saying why EmptyDir is no stand-in", v.Diagnostics)
	}
	plan, err := b.Plan(ctxFor(t), &sdk.PlanRequest{Deployment: spec})
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	found = false
	for _, n := range plan.Compatibility {
		if n.Service == "db" && n.Field == "volume" && n.Level == sdk.CompatError && strings.Contains(n.Detail, `"pgdata"`) && strings.Contains(n.Detail, "persist") {
			found = true
		}
	}
	if !found {
		t.Errorf("plan compatibility %+v, want an error for volume pgdata of db", plan.Compatibility)
	}
}
