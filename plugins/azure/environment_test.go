package azure_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/plugins/azure/internal/fakearm"
	"github.com/alphaswarm/controller/sdk"
)

// A Log Analytics workspace's customer ID and shared key (base64), as an
// operator's credential resolver would give the key.
const (
	laCustomer = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
	laKey      = "bGEtc2hhcmVkLWtleS1uZXZlci1zaG93bg=="
)

// envPuts counts the PUTs of managed environment name.
func envPuts(name string) int {
	n := 0
	for _, c := range fake.Calls("/managedEnvironments/" + name) {
		if strings.HasPrefix(c, "PUT ") && strings.HasSuffix(c, "/managedEnvironments/"+name) {
			n++
		}
	}
	return n
}

// TestCreateEnvironment: with create_environment, Configure creates a
// missing environment (a long-running operation it waits out) with the
// Log Analytics workspace; apps run in it; destroy leaves it; a second
// Configure uses it as it is.
func TestCreateEnvironment(t *testing.T) {
	t.Parallel()
	name := "cae-" + unique("created")
	changes := map[string]any{"environment": name, "create_environment": true,
		"log_analytics_customer_id": laCustomer, "log_analytics_shared_key": laKey}
	b := configured(t, changes)
	env, ok := fake.Environments()[name]
	if !ok {
		t.Fatalf("Configure did not create managed environment %s", name)
	}
	if n := envPuts(name); n != 1 {
		t.Errorf("%d PUTs of the environment, want 1", n)
	}
	logs := env.Model.Properties.AppLogsConfiguration
	switch {
	case *env.Model.Location != location:
		t.Errorf("environment location %s, want %s", *env.Model.Location, location)
	case logs == nil || *logs.Destination != "log-analytics" || *logs.LogAnalyticsConfiguration.CustomerID != laCustomer || env.SharedKey != laKey:
		t.Errorf("environment logs %+v (shared key sent: %t), want log-analytics to %s with the key", logs, env.SharedKey == laKey, laCustomer)
	case env.Model.Tags["alphaswarm-managed-by"] == nil:
		t.Errorf("environment tags %v, want alphaswarm-managed-by", env.Model.Tags)
	}

	spec := core.DeploymentSpec{Tenant: "acme", Environment: "prod", Name: unique("inenv"),
		Services: []core.ServiceSpec{{Name: "api", Image: "registry.example/api:1", Replicas: 1}}}
	resp, err := b.Apply(ctxFor(t), &sdk.ApplyRequest{Deployment: spec}, func(core.Event) {})
	if err != nil {
		t.Fatalf("apply in the created environment: %v", err)
	}
	if id := *appOf(t, spec.Ref(), "api").Model.Properties.ManagedEnvironmentID; !strings.HasSuffix(id, "/managedEnvironments/"+name) {
		t.Errorf("app in environment %s, want %s", id, name)
	}
	destroy(t, b, spec.Ref(), resp.State)
	if _, ok := fake.Environments()[name]; !ok {
		t.Errorf("destroy deleted the environment the operator allowed the plugin to create")
	}
	for _, c := range fake.Calls("/managedEnvironments/" + name) {
		if strings.HasPrefix(c, "DELETE ") {
			t.Errorf("a tenant's destroy sent %s", c)
		}
	}

	configured(t, changes)
	if n := envPuts(name); n != 1 {
		t.Errorf("a second Configure sent the existing environment again: %d PUTs, want 1", n)
	}
}

// TestEnvironmentBeingCreated: an environment whose creation is under way
// (a killed Configure's) is waited for, not sent again, and apps then run
// in it.
func TestEnvironmentBeingCreated(t *testing.T) {
	t.Parallel()
	for _, create := range []bool{true, false} {
		name := "cae-" + unique("creating")
		fake.AddEnvironmentCreating(subscription, group, name, location)
		b := configured(t, map[string]any{"environment": name, "create_environment": create})
		if n := envPuts(name); n != 0 {
			t.Errorf("create_environment=%t: Configure sent an environment being created: %d PUTs", create, n)
		}
		spec := core.DeploymentSpec{Tenant: "acme", Environment: "prod", Name: unique("aftercreate"),
			Services: []core.ServiceSpec{{Name: "api", Image: "registry.example/api:1", Replicas: 1}}}
		resp, err := b.Apply(ctxFor(t), &sdk.ApplyRequest{Deployment: spec}, func(core.Event) {})
		if err != nil {
			t.Fatalf("create_environment=%t: apply once the environment is created: %v", create, err)
		}
		destroy(t, b, spec.Ref(), resp.State)
	}
}

// TestCreateEnvironmentErrors: a role that may not create environments is
// an error at client_id; Azure's refusal (a quota) names the environment
// and Azure's code; neither shows the shared key. Without
// create_environment a missing environment is still an error, and
// nothing is created.
func TestCreateEnvironmentErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		fault  *fakearm.Fault
		create bool
		path   string // of the InvalidConfigError; "" for another error
		want   string
	}{
		{"forbidden", &fakearm.Fault{Method: "PUT", Status: 403, Code: "AuthorizationFailed",
			Message: "The client does not have authorization to perform action 'Microsoft.App/managedEnvironments/write'."}, true, "client_id", "AuthorizationFailed"},
		{"quota", &fakearm.Fault{Method: "PUT", Status: 400, Code: "MaxNumberOfRegionalEnvironmentsInSubExceeded",
			Message: "The subscription has reached its maximum number of environments in westeurope."}, true, "", "MaxNumberOfRegionalEnvironmentsInSubExceeded"},
		{"not allowed", nil, false, "environment", "create_environment"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			name := "cae-" + unique("refused")
			if tc.fault != nil {
				f := *tc.fault
				f.PathContains = "/managedEnvironments/" + name
				fake.Inject(f)
			}
			changes := map[string]any{"environment": name, "create_environment": tc.create}
			if tc.create {
				changes["log_analytics_customer_id"], changes["log_analytics_shared_key"] = laCustomer, laKey
			}
			_, err := configuredErr(t, changes)
			var invalid *sdk.InvalidConfigError
			switch {
			case err == nil:
				t.Fatal("configure succeeded, want an error")
			case tc.path != "" && (!errors.As(err, &invalid) || invalid.Path != tc.path):
				t.Errorf("configure: %v, want an InvalidConfigError at %s", err, tc.path)
			case tc.path == "" && (errors.As(err, &invalid) || !strings.Contains(err.Error(), "create managed environment "+name)):
				t.Errorf("configure: %v, want an error creating managed environment %s", err, name)
			case !strings.Contains(err.Error(), tc.want):
				t.Errorf("configure: %v, want it to name %s", err, tc.want)
			case strings.Contains(err.Error(), laKey):
				t.Errorf("the error shows the shared key: %v", err)
			}
			if _, ok := fake.Environments()[name]; ok {
				t.Errorf("environment %s exists after a refused Configure", name)
			}
			if !tc.create && envPuts(name) != 0 {
				t.Errorf("Configure without create_environment sent the environment")
			}
		})
	}
}
