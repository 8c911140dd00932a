package compose

import (
	"testing"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/sdk"
)

// TestConfigHashIsPinned records the config hashes that running
// containers carry in their com.docker.compose.config-hash label. A
// change to them would replace every replica of every deployment on the
// next apply, so these values never change.
func TestConfigHashIsPinned(t *testing.T) {
	t.Parallel()
	const salt = "00112233445566778899aabbccddeeff"
	p := project{name: "as_acme_prod_shop", ref: core.DeploymentRef{Tenant: "acme", Environment: "prod", Name: "shop"}}
	withSecrets := &core.ServiceSpec{Name: "api", Image: "shop/api:1.2", Replicas: 3,
		Command: []string{"/api", "-listen", ":8080"}, Env: map[string]string{"MODE": "prod", "LOG": "json"},
		SecretEnv: []core.SecretRef{{Env: "TOKEN", Ref: "shop/token"}, {Env: "DB_PASSWORD", Ref: "shop/db"}},
		Ports:     []core.Port{{Name: "http", Container: 8080, Host: 18080, Protocol: core.ProtocolTCP}},
		DependsOn: []string{"db"}}
	secrets := sdk.SecretValues{"shop/db": "hunter2", "shop/token": "t0ken\nwith a newline"}
	plain := &core.ServiceSpec{Name: "db", Image: "shop/db:15", Replicas: 1, Env: map[string]string{"PGDATA": "/data"}}
	for _, tc := range []struct {
		name    string
		svc     *core.ServiceSpec
		secrets sdk.SecretValues
		want    string
	}{
		{"a service with secrets", withSecrets, secrets, pinnedWithSecrets},
		{"a service with other secret values", withSecrets, sdk.SecretValues{"shop/db": "hunter3", "shop/token": "t0ken\nwith a newline"}, pinnedOtherSecrets},
		{"a service without secrets", plain, nil, pinnedPlain},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := configHash(p, tc.svc, tc.secrets, salt); got != tc.want {
				t.Errorf("%s: config hash %s, want %s", tc.name, got, tc.want)
			}
			if !currentHash(tc.want, p, tc.svc, tc.secrets, salt) {
				t.Errorf("a replica labelled %s is not current", tc.want)
			}
		})
	}
	// Containers made before services without secrets hashed without the
	// salt carry the salted hash; they are current too.
	if !currentHash(pinnedPlainSalted, p, plain, nil, salt) {
		t.Errorf("a replica with the salted hash of a service without secrets is not current")
	}
}

// The hashes of the services above, as the plugin computed them before the
// SDK's secret hash replaced its own.
const (
	pinnedWithSecrets  = "d943f23fca97537fad2319d0284d817ff439270499f17fd49c12f92707e3ed6e"
	pinnedOtherSecrets = "ce8e50d55c64f95a604a8ea9326e96a25cb68a34ece6de0ef708fa55e7e157f2"
	pinnedPlain        = "5e2b8fcc24c4d712ff16e18682d190946cbe3df018671d91b7acf1bbe5b5a401"
	pinnedPlainSalted  = "0150eba10b4311e5f10145d2f036cd0c293a804a7c3489e235e8ca29577f206f"
)
