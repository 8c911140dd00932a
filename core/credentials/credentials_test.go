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
	env := map[string]string{"ALPHASWARM_SECRET_TRADING_DB_PASSWORD": "hunter2"}
	r := &Resolver{Store: &EnvStore{Prefix: "ALPHASWARM_SECRET_", Getenv: func(k string) string { return env[k] }}, StoreName: "env"}
	got, err := r.Resolve(context.Background(), deployment("trading/db-password"))
	if err != nil || got["trading/db-password"] != "hunter2" {
		t.Fatalf("resolve: %v, %v", got, err)
	}
	_, err = r.Resolve(context.Background(), deployment("trading/db-password", "trading/api-key"))
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), `"trading/api-key"`) || !strings.Contains(err.Error(), "ALPHASWARM_SECRET_TRADING_API_KEY") {
		t.Errorf("missing secret: %v", err)
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("the error shows a value: %v", err)
	}
}

func TestDirStore(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "trading"), 0o700)
	os.WriteFile(filepath.Join(root, "trading", "db-password"), []byte("s3cret\n"), 0o600)
	os.WriteFile(filepath.Join(t.TempDir(), "outside"), []byte("no"), 0o600)
	store, err := Open("dir", map[string]string{"path": root})
	if err != nil {
		t.Fatal(err)
	}
	if v, err := store.Lookup(context.Background(), "trading/db-password"); err != nil || v != "s3cret" {
		t.Errorf("lookup: %q, %v", v, err)
	}
	for _, bad := range []string{"../outside", "/etc/passwd", "trading/../../x", "", "a//b"} {
		if _, err := store.Lookup(context.Background(), bad); err == nil || errors.Is(err, ErrNotFound) {
			t.Errorf("lookup %q: %v, want a refusal of the name", bad, err)
		}
	}
	if _, err := store.Lookup(context.Background(), "trading/nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing file: %v", err)
	}
}

func TestOpenUnknownKind(t *testing.T) {
	t.Parallel()
	if _, err := Open("vault", nil); err == nil || !strings.Contains(err.Error(), `"vault"`) || !strings.Contains(err.Error(), "dir") {
		t.Errorf("unknown kind: %v", err)
	}
}
