package backends

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/alphaswarm/controller/core/credentials"
	"github.com/alphaswarm/controller/host/internal/pluginmgr"
	"github.com/alphaswarm/controller/host/internal/testbin"
)

// pluginDir holds the memory plugin, faultyDir the faulty one.
var pluginDir, faultyDir string

func TestMain(m *testing.M) {
	tmp, err := os.MkdirTemp("", "backends-test-")
	if err == nil {
		pluginDir, err = testbin.PluginDir(tmp, false)
	}
	if err == nil {
		faultyDir, err = testbin.FaultyDir(tmp)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(tmp)
	os.Exit(code)
}

func plugins(t *testing.T) *pluginmgr.Manager {
	t.Helper()
	m := pluginmgr.New(pluginmgr.Config{PluginDirs: []string{pluginDir, faultyDir}, StartTimeout: 10 * time.Second})
	t.Cleanup(m.Close)
	return m
}

// TestFileErrorsPointAtTheirPlace reads configuration files an operator
// could get wrong: each is a diagnostic at the place, naming what.
func TestFileErrorsPointAtTheirPlace(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, src, want string }{
		{"a label that is not a name", `backend "memory" "Sim" {}`, `test.hcl:1,18-23: Invalid backend label: "Sim" is not a valid name`},
		{"twice the same backend", "backend \"memory\" \"sim\" {}\nbackend \"memory\" \"sim\" {}\n", "test.hcl:2,1-23: Duplicate backend: Backend memory.sim is registered twice."},
		{"an empty grant", "backend \"memory\" \"sim\" {\n  grant {\n    tenants = []\n    environments = [\"*\"]\n  }\n}\n", "Empty grant: tenants is empty"},
		{"a grant that names no one", "backend \"memory\" \"sim\" {\n  grant {\n    tenants = [\"Acme Corp\"]\n    environments = [\"*\"]\n  }\n}\n", `Invalid grant: tenants holds "Acme Corp"`},
		{"an unknown block", "backend \"memory\" \"sim\" {\n  settings {}\n}\n", "test.hcl:2,3-11: Unsupported block type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := DiagnosticsError(New(nil).Parse([]byte(tc.src), "test.hcl"))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestBindChecksConfigurationsAgainstTheirPlugins binds configurations to
// the memory plugin's schema: a wrong attribute or a plugin that is not
// installed keeps the host from starting, with the place.
func TestBindChecksConfigurationsAgainstTheirPlugins(t *testing.T) {
	t.Parallel()
	m := plugins(t)
	for _, tc := range []struct{ name, src, want string }{
		{"an unknown attribute", "backend \"memory\" \"sim\" {\n  config {\n    latncy = \"1s\"\n  }\n}\n", `test.hcl:3,5-11: Unsupported argument: An argument named "latncy" is not expected here`},
		{"a wrong type", "backend \"memory\" \"sim\" {\n  config {\n    latency = [1]\n  }\n}\n", "test.hcl:3,15-18: Incorrect attribute value type"},
		{"a plugin not installed", `backend "nomad" "prod" {}`, `Backend plugin not installed: Backend nomad.prod needs the "nomad" plugin`},
		{"a credential with a bad name", "backend \"memory\" \"sim\" {\n  config {\n    node_name = credential(\"../x\")\n  }\n}\n", "Invalid function argument"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Open(context.Background(), tc.src, "test.hcl", nil, m)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestInstanceLaysTheTenantsSettingsOverTheOperators builds instances:
// each tenant gets its own name; what a tenant may set replaces the
// operator's value, and anything else it sends (as a configuration
// recorded before backends were registered could) is dropped.
func TestInstanceLaysTheTenantsSettingsOverTheOperators(t *testing.T) {
	t.Parallel()
	src := "backend \"memory\" \"sim\" {\n  config {\n    latency = \"5ms\"\n    node_name = \"operator-node\"\n  }\n}\n"
	r, err := Open(context.Background(), src, "test.hcl", nil, plugins(t))
	if err != nil {
		t.Fatal(err)
	}
	r.Lookup("memory.sim").schema.Attributes[2].TenantSettable = false // node_name is the operator's, for this test
	inst, err := r.Instance(context.Background(), "acme", "memory.sim", json.RawMessage(`{"latency":"1ms","node_name":"tenant-node","unknown":"x"}`))
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	json.Unmarshal(inst.Config, &got)
	if inst.Name != "acme/memory.sim" || inst.Plugin != "memory" || got["latency"] != "1ms" || got["node_name"] != "operator-node" || got["unknown"] != nil {
		t.Errorf("instance %s %s %s", inst.Name, inst.Plugin, inst.Config)
	}
	if _, err := r.Instance(context.Background(), "acme", "memory.nope", nil); err == nil || !strings.Contains(err.Error(), "backend memory.nope: not registered on this controller") {
		t.Errorf("an unregistered backend: %v", err)
	}
}

// TestCredentialsResolveAtInstanceTime names an operator's credential in
// a configuration: the bound configuration holds a reference, not the
// value; an instance gets the value from the operator's namespace of the
// secret store, never from a tenant's.
func TestCredentialsResolveAtInstanceTime(t *testing.T) {
	t.Parallel()
	vars := map[string]string{"ALPHASWARM_SECRET_SIM_NODE": "from-the-operator", "ALPHASWARM_TENANT_SECRET_ACME__SIM_NODE": "from-a-tenant"}
	store := &credentials.EnvStore{Getenv: func(k string) string { return vars[k] }}
	src := "backend \"memory\" \"sim\" {\n  config {\n    node_name = credential(\"sim/node\")\n  }\n}\nbackend \"memory\" \"gone\" {\n  config {\n    node_name = credential(\"sim/gone\")\n  }\n}\n"
	r, err := Open(context.Background(), src, "test.hcl", store, plugins(t))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(r.Lookup("memory.sim").config), "from-the-operator") {
		t.Error("the bound configuration holds the credential's value")
	}
	inst, err := r.Instance(context.Background(), "acme", "memory.sim", nil)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	json.Unmarshal(inst.Config, &got)
	if got["node_name"] != "from-the-operator" {
		t.Errorf("node_name %v, want the operator's credential", got["node_name"])
	}
	if _, err := r.Instance(context.Background(), "acme", "memory.gone", nil); err == nil || !strings.Contains(err.Error(), `credential "sim/gone"`) || strings.Contains(err.Error(), "from-") {
		t.Errorf("a missing credential: %v", err)
	}
}

func TestGrants(t *testing.T) {
	t.Parallel()
	b := &Backend{Type: "memory", Name: "sim", Grants: []Grant{
		{Tenants: []string{"acme"}, Environments: []string{"prod", "staging"}},
		{Tenants: []string{"*"}, Environments: []string{"dev"}},
	}}
	for _, tc := range []struct {
		tenant, env string
		want        bool
	}{
		{"acme", "prod", true}, {"acme", "dev", true}, {"acme", "qa", false},
		{"globex", "dev", true}, {"globex", "prod", false},
	} {
		if got := b.Granted(tc.tenant, tc.env); got != tc.want {
			t.Errorf("Granted(%s, %s) = %v", tc.tenant, tc.env, got)
		}
	}
	_, acme := b.GrantedTo("acme")
	_, globex := b.GrantedTo("globex")
	if diff := cmp.Diff([][]string{{"dev", "prod", "staging"}, {"dev"}}, [][]string{acme, globex}); diff != "" {
		t.Errorf("environments (-want +got):\n%s", diff)
	}
	if ok, _ := (&Backend{}).GrantedTo("acme"); ok {
		t.Error("a backend without grants is granted")
	}
}
