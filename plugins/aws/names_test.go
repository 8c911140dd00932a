package aws_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/plugins/aws"
)

func TestNamesAreDeterministicWithinLimitsAndApart(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 63)
	cases := []struct {
		name string
		ref  core.DeploymentRef
		svc  string
		want string // the service name; empty: only the limits are checked
	}{
		{"short", core.DeploymentRef{Tenant: "acme", Environment: "prod", Name: "shop"}, "api", "as-acme-prod-shop-api-"},
		{"long parts", core.DeploymentRef{Tenant: long, Environment: long, Name: long}, long + "-" + long, ""},
		{"joined alike a", core.DeploymentRef{Tenant: "a", Environment: "b-c", Name: "d"}, "e", "as-a-b-c-d-e-"},
		{"joined alike b", core.DeploymentRef{Tenant: "a-b", Environment: "c", Name: "d"}, "e", "as-a-b-c-d-e-"},
	}
	seen := map[string]string{}
	serviceRE := regexp.MustCompile(`^[A-Za-z0-9_-]{1,255}$`)
	logRE := regexp.MustCompile(`^[A-Za-z0-9_./#-]{1,512}$`)
	secretRE := regexp.MustCompile(`^[A-Za-z0-9/_+=.@-]{1,512}$`)
	for _, tc := range cases {
		got := aws.ServiceName("as", tc.ref, tc.svc)
		if again := aws.ServiceName("as", tc.ref, tc.svc); again != got {
			t.Errorf("%s: not deterministic: %q then %q", tc.name, got, again)
		}
		if !serviceRE.MatchString(got) {
			t.Errorf("%s: service name %q (%d) breaks ECS's rules", tc.name, got, len(got))
		}
		if tc.want != "" && (!strings.HasPrefix(got, tc.want) || len(got) != len(tc.want)+8) {
			t.Errorf("%s: service name %q, want %q and an 8-digit hash", tc.name, got, tc.want)
		}
		if other, dup := seen[got]; dup {
			t.Errorf("%s and %s share the name %q", tc.name, other, got)
		}
		seen[got] = tc.name
		if lg := aws.LogGroupName("as", tc.ref); !logRE.MatchString(lg) {
			t.Errorf("%s: log group %q breaks CloudWatch Logs' rules", tc.name, lg)
		}
		if s := aws.SecretName("as", tc.ref, "db/pass word;$(rm)"); !secretRE.MatchString(s) ||
			!strings.HasPrefix(s, "as/"+tc.ref.Tenant[:min(len(tc.ref.Tenant), 8)]) {
			t.Errorf("%s: secret name %q breaks Secrets Manager's rules or leaves the tenant's path", tc.name, s)
		}
	}
	long1 := aws.ServiceName("as", cases[1].ref, cases[1].svc)
	long2 := aws.ServiceName("as", cases[1].ref, cases[1].svc+"y")
	if long1 == long2 || len(long1) != 255 {
		t.Errorf("long names: %q and %q: want distinct names of 255 characters, by their hash", long1, long2)
	}
	if a, b := aws.SecretName("as", cases[0].ref, "a/b"), aws.SecretName("as", cases[0].ref, "a-b"); a == b {
		t.Errorf("secret references a/b and a-b share the name %q", a)
	}
}

func TestFargateSizes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		cpu    float64
		memory int64
		want   aws.FargateSize
		approx bool
	}{
		{0, 0, aws.FargateSize{CPU: 256, Memory: 512}, true},
		{0.25, 512 << 20, aws.FargateSize{CPU: 256, Memory: 512}, false},
		{0.25, 1536 << 20, aws.FargateSize{CPU: 256, Memory: 2048}, true},
		{0.5, 256 << 20, aws.FargateSize{CPU: 512, Memory: 1024}, true},
		{1, 2 << 30, aws.FargateSize{CPU: 1024, Memory: 2048}, false},
		{0.3, 0, aws.FargateSize{CPU: 512, Memory: 1024}, true},
		{0.25, 0, aws.FargateSize{CPU: 256, Memory: 512}, true},
		{0.25, 3 << 30, aws.FargateSize{CPU: 512, Memory: 3072}, true},
		{2, 20 << 30, aws.FargateSize{CPU: 4096, Memory: 20480}, true},
		{8, 17 << 30, aws.FargateSize{CPU: 8192, Memory: 20480}, true},
		{16, 120 << 30, aws.FargateSize{CPU: 16384, Memory: 122880}, false},
	}
	for _, tc := range cases {
		got, approx, err := aws.SizeFor(tc.cpu, tc.memory)
		if err != nil {
			t.Errorf("sizeFor(%g, %d): %v", tc.cpu, tc.memory, err)
			continue
		}
		if diff := cmp.Diff(tc.want, got); diff != "" || approx != tc.approx {
			t.Errorf("sizeFor(%g, %d MiB) = %v approximated %v, want %v approximated %v", tc.cpu, tc.memory>>20, got, approx, tc.want, tc.approx)
		}
	}
	for _, tc := range []struct {
		cpu    float64
		memory int64
	}{{17, 0}, {1, 121 << 30}} {
		if got, _, err := aws.SizeFor(tc.cpu, tc.memory); err == nil {
			t.Errorf("sizeFor(%g, %d) = %v, want an error: no Fargate size is so large", tc.cpu, tc.memory, got)
		}
	}
}
