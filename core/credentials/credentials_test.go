package credentials

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alphaswarm/controller/core"
)

func deployment(refs ...string) *core.DeploymentSpec {
	d := &core.DeploymentSpec{Tenant: "acme", Environment: "prod", Name: "shop"}
	for i, r := range refs {
		d.Services = append(d.Services, core.ServiceSpec{Name: "svc", SecretEnv: []core.SecretRef{{Env: "V" + string(rune('A'+i)), Ref: r}}})
	}
	return d
}

func TestEnvStore(t *testing.T) {
	t.Parallel()
	env := map[string]string{"ALPHASWARM_TENANT_SECRET_ACME__TRADING_DB_PASSWORD": "hunter2", "ALPHASWARM_SECRET_KUBE_CONFIG": "operator"}
	store := &EnvStore{Getenv: func(k string) string { return env[k] }}
	r := &Resolver{Store: store, StoreName: "env"}
	got, err := r.Resolve(context.Background(), deployment("trading/db-password"))
	if err != nil || got["trading/db-password"] != "hunter2" {
		t.Fatalf("resolve: %v, %v", got, err)
	}
	_, err = r.Resolve(context.Background(), deployment("trading/db-password", "trading/api-key"))
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), `"trading/api-key" of tenant acme`) || !strings.Contains(err.Error(), "ALPHASWARM_TENANT_SECRET_ACME__TRADING_API_KEY") {
		t.Errorf("missing secret: %v", err)
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("the error shows a value: %v", err)
	}
	if v, err := store.Lookup(context.Background(), "kube/config"); err != nil || v != "operator" {
		t.Errorf("the operator's secret: %q, %v", v, err)
	}
}

func TestDirStore(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	write(t, root, "tenants/acme/trading/db-password", "s3cret\n")
	write(t, root, "kube/config", "operator")
	os.WriteFile(filepath.Join(t.TempDir(), "outside"), []byte("no"), 0o600)
	store, err := Open("dir", map[string]string{"path": root})
	if err != nil {
		t.Fatal(err)
	}
	if v, err := store.LookupTenant(context.Background(), "acme", "trading/db-password"); err != nil || v != "s3cret" {
		t.Errorf("lookup: %q, %v", v, err)
	}
	if v, err := store.Lookup(context.Background(), "kube/config"); err != nil || v != "operator" {
		t.Errorf("the operator's secret: %q, %v", v, err)
	}
	for _, bad := range []string{"../outside", "/etc/passwd", "trading/../../x", "", "a//b"} {
		if _, err := store.LookupTenant(context.Background(), "acme", bad); err == nil || errors.Is(err, ErrNotFound) {
			t.Errorf("lookup %q: %v, want a refusal of the name", bad, err)
		}
	}
	_, err = store.LookupTenant(context.Background(), "acme", "trading/nope")
	if !errors.Is(err, ErrNotFound) || strings.Contains(err.Error(), root) {
		t.Errorf("missing file: %v (it must not show the directory)", err)
	}
	if _, err := store.Lookup(context.Background(), "tenants/acme/trading/db-password"); err == nil || !strings.Contains(err.Error(), "holds the tenants' secrets") {
		t.Errorf("an operator lookup under tenants/: %v", err)
	}
}

func write(t *testing.T, root, name, value string) {
	t.Helper()
	path := filepath.Join(root, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(value), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestNoTenantReachesAnotherTenantsSecrets tries, as tenant acme, every
// spelling that could name tenant acme-corp's secret, tenant a's, or the
// operator's, in both stores: each one is refused or not found, and no
// value leaks.
func TestNoTenantReachesAnotherTenantsSecrets(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	env := map[string]string{}
	plant := func(tenant, name, value string) {
		write(t, root, "tenants/"+tenant+"/"+name, value)
		env[(&EnvStore{}).TenantVarName(tenant, name)] = value
	}
	plant("acme-corp", "db", "corp-value")
	plant("a", "cme__db", "a-value")
	plant("a", "cme-corp__db", "a-value-2")
	write(t, root, "kube/config", "operator-value")
	env["ALPHASWARM_SECRET_KUBE_CONFIG"] = "operator-value"
	env["ALPHASWARM_TENANT_SECRET_ACME__KUBE_CONFIG"] = "" // acme has none
	stores := map[string]SecretStore{"dir": &DirStore{Root: root}, "env": &EnvStore{Getenv: func(k string) string { return env[k] }}}
	for _, name := range []string{
		"db", "corp/db", "-corp/db", "_HCORP__DB", "HCORP__DB", "corp__db", "../acme-corp/db", "../../kube/config",
		"kube/config", "KUBE_CONFIG", "tenants/acme-corp/db", "_corp/db", "/acme-corp/db",
	} {
		for kind, store := range stores {
			v, err := store.LookupTenant(context.Background(), "acme", name)
			if err == nil || strings.Contains(v, "value") {
				t.Errorf("%s store: tenant acme's %q gives %q, %v", kind, name, v, err)
			}
		}
	}
	for kind, store := range stores {
		if v, err := store.LookupTenant(context.Background(), "acme-corp", "db"); err != nil || v != "corp-value" {
			t.Errorf("%s store: acme-corp's own secret: %q, %v", kind, v, err)
		}
		if _, err := store.LookupTenant(context.Background(), "../acme-corp", "db"); err == nil {
			t.Errorf("%s store: a tenant that is not a name is accepted", kind)
		}
	}
}

func TestOpenUnknownKind(t *testing.T) {
	t.Parallel()
	if _, err := Open("vault", nil); err == nil || !strings.Contains(err.Error(), `"vault"`) || !strings.Contains(err.Error(), "dir") {
		t.Errorf("unknown kind: %v", err)
	}
}
