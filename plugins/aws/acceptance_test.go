package aws_test

import (
	"crypto/rand"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/sdk"
	"github.com/alphaswarm/controller/sdk/backendtest"
)

// TestAcceptanceAWS runs the conformance kit against real ECS on Fargate,
// as Terraform providers' acceptance tests do. It runs only with
// ALPHASWARM_ACC_AWS=1 and real credentials; it uses a throwaway name
// prefix, and every deployment the kit makes is destroyed. It costs a few
// cents of Fargate time.
func TestAcceptanceAWS(t *testing.T) {
	const how = "set ALPHASWARM_ACC_AWS=1 with AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), " +
		"ALPHASWARM_ACC_AWS_REGION, ALPHASWARM_ACC_AWS_CLUSTER, ALPHASWARM_ACC_AWS_SUBNETS (comma-separated), " +
		"ALPHASWARM_ACC_AWS_SECURITY_GROUPS, ALPHASWARM_ACC_AWS_EXECUTION_ROLE_ARN (and ALPHASWARM_ACC_AWS_INSIGHTS=enhanced when the cluster has Container Insights with enhanced observability) to run the live acceptance test against real ECS"
	if os.Getenv("ALPHASWARM_ACC_AWS") != "1" {
		t.Skip("live AWS acceptance test not run: " + how)
	}
	env := func(name string) string {
		v := os.Getenv(name)
		if v == "" {
			t.Fatalf("%s is not set: %s", name, how)
		}
		return v
	}
	split := func(s string) []string {
		if s == "" {
			return []string{}
		}
		return strings.Split(s, ",")
	}
	config := map[string]any{
		"region": env("ALPHASWARM_ACC_AWS_REGION"), "access_key_id": env("AWS_ACCESS_KEY_ID"), "secret_access_key": env("AWS_SECRET_ACCESS_KEY"),
		"session_token": os.Getenv("AWS_SESSION_TOKEN"), "cluster": env("ALPHASWARM_ACC_AWS_CLUSTER"),
		"subnets": split(env("ALPHASWARM_ACC_AWS_SUBNETS")), "security_groups": split(os.Getenv("ALPHASWARM_ACC_AWS_SECURITY_GROUPS")),
		"assign_public_ip": true, "execution_role_arn": env("ALPHASWARM_ACC_AWS_EXECUTION_ROLE_ARN"),
		"name_prefix": "acc" + strings.ToLower(rand.Text()[:6]), "rollout_timeout": "10m",
	}
	// Task metrics need Container Insights with enhanced observability.
	var unavailable []sdk.Capability
	if os.Getenv("ALPHASWARM_ACC_AWS_INSIGHTS") != "enhanced" {
		unavailable = append(unavailable, sdk.CapMetrics)
	}
	good, _ := json.Marshal(config)
	config["rollout_timeout"] = "soon"
	bad, _ := json.Marshal(config)
	backendtest.Run(t, backendtest.Harness{
		Connect: backendtest.LaunchPackage(pluginPackage), Config: good, BadConfig: bad, BadConfigPath: "rollout_timeout",
		Service: func(string) core.ServiceSpec {
			return core.ServiceSpec{
				Image:   "public.ecr.aws/docker/library/busybox:1.37",
				Command: []string{"sh", "-c", "while true; do echo alive; sleep 5; done"},
			}
		},
		Timeout: 15 * time.Minute, PollInterval: 10 * time.Second, Parallel: 2,
		Unavailable: unavailable,
	})
}
