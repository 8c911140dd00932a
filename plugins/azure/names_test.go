package azure

import (
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/alphaswarm/controller/core"
)

var validAppName = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)

func TestAppName(t *testing.T) {
	t.Parallel()
	ref := func(tenant, env, name string) core.DeploymentRef {
		return core.DeploymentRef{Tenant: tenant, Environment: env, Name: name}
	}
	cases := []struct {
		name    string
		prefix  string
		ref     core.DeploymentRef
		service string
		want    string
	}{
		{"short", "as", ref("acme", "prod", "shop"), "api", "as-shop-api-" + hashOf("acme", "prod", "shop", "api")},
		{"upper case and symbols", "as", ref("acme", "prod", "Shop_V2"), "API..x", "as-shop-v2-api-x-" + hashOf("acme", "prod", "Shop_V2", "API..x")},
		{"long is cut", "swarm", ref("acme", "prod", "a-very-long-deployment-name"), "backend-service",
			"swarm-a-very-long-deplo-" + hashOf("acme", "prod", "a-very-long-deployment-name", "backend-service")},
		{"nothing usable", "as", ref("acme", "prod", "___"), "_", "as-" + hashOf("acme", "prod", "___", "_")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := appName(tc.prefix, tc.ref, tc.service)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("appName (-want +got):\n%s", diff)
			}
			if len(got) > maxAppName || !validAppName.MatchString(got) {
				t.Errorf("appName %q is not a valid container app name", got)
			}
		})
	}
	// Parts that join alike stay apart.
	a := appName("as", ref("a", "b-c", "d"), "e")
	b := appName("as", ref("a-b", "c", "d"), "e")
	c := appName("as", ref("a", "b", "c-d"), "e")
	if a == b || b == c || a == c {
		t.Errorf("deployments whose parts join alike share app names: %s %s %s", a, b, c)
	}
}

func hashOf(tenant, env, dep, svc string) string {
	return appName("x", core.DeploymentRef{Tenant: tenant, Environment: env, Name: dep}, svc)[strings.LastIndex(appName("x", core.DeploymentRef{Tenant: tenant, Environment: env, Name: dep}, svc), "-")+1:]
}

func TestSizeFor(t *testing.T) {
	t.Parallel()
	type result struct {
		Size    size
		Rounded bool
		OK      bool
	}
	cases := []struct {
		name   string
		cpu    float64
		memory int64
		want   result
	}{
		{"nothing asked: Azure's default", 0, 0, result{size{0.5, 1}, false, true}},
		{"an exact size", 1, 2 * gib, result{size{1, 2}, false, true}},
		{"the smallest", 0.25, gib / 2, result{size{0.25, 0.5}, false, true}},
		{"cpu rounded up", 0.3, 0, result{size{0.5, 1}, true, true}},
		{"memory decides", 0.25, 3 * gib, result{size{1.5, 3}, true, true}},
		{"cpu decides", 2, gib, result{size{2, 4}, true, true}},
		{"the largest", 4, 8 * gib, result{size{4, 8}, false, true}},
		{"too much cpu", 4.5, 0, result{size{}, true, false}},
		{"too much memory", 0, 9 * gib, result{size{}, true, false}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, rounded, ok := sizeFor(tc.cpu, tc.memory)
			if diff := cmp.Diff(tc.want, result{s, rounded, ok}); diff != "" {
				t.Errorf("sizeFor(%g, %d) (-want +got):\n%s", tc.cpu, tc.memory, diff)
			}
		})
	}
}

func TestSecretNameIsValid(t *testing.T) {
	t.Parallel()
	valid := regexp.MustCompile(`^[a-z0-9]([a-z0-9-.]*[a-z0-9])?$`)
	for _, ref := range []string{"db/password", "../../etc/passwd", "UPPER", ""} {
		if n := secretName(ref); !valid.MatchString(n) || strings.Contains(n, "db") || strings.Contains(n, "passwd") {
			t.Errorf("secretName(%q) = %q: invalid, or shows the reference", ref, n)
		}
	}
}
