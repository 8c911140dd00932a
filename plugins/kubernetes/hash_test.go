package kubernetes

import (
	"testing"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/sdk"
)

// TestSecretsHashIsPinned records the secrets hash that running pods'
// templates carry in their annotation. A change to it would roll every
// Deployment with secrets on the next apply, so these values never change.
func TestSecretsHashIsPinned(t *testing.T) {
	t.Parallel()
	const salt = "00112233445566778899aabbccddeeff"
	svc := &core.ServiceSpec{Name: "api", Image: "shop/api:1.2", Replicas: 3,
		SecretEnv: []core.SecretRef{{Env: "TOKEN", Ref: "shop/token"}, {Env: "DB_PASSWORD", Ref: "shop/db"}}}
	for _, tc := range []struct {
		name   string
		svc    *core.ServiceSpec
		values sdk.SecretValues
		want   string
	}{
		{"a service with secrets", svc, sdk.SecretValues{"shop/db": "hunter2", "shop/token": "t0ken\x00with a NUL"}, pinnedSecrets},
		{"other secret values", svc, sdk.SecretValues{"shop/db": "hunter3", "shop/token": "t0ken\x00with a NUL"}, pinnedOtherSecrets},
		{"a service without secrets", &core.ServiceSpec{Name: "db", Image: "shop/db:15", Replicas: 1}, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := secretsHash(salt, tc.svc, tc.values); got != tc.want {
				t.Errorf("%s: secrets hash %q, want %q", tc.name, got, tc.want)
			}
		})
	}
}

// The hashes of the service above, as the plugin computed them before the
// SDK's secret hash replaced its own.
const (
	pinnedSecrets      = "db434d3d1fb9d1400a829b6c064713e4"
	pinnedOtherSecrets = "19b76bab1d0fd68bb1857d6c2ca8008f"
)
