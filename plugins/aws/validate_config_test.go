package aws_test

import (
	"testing"

	"github.com/alphaswarm/controller/sdk"
	"github.com/alphaswarm/controller/sdk/backendtest"
)

// launchUnconfigured starts the plugin binary with an empty environment,
// as the host does for offline checks.
var launchUnconfigured = backendtest.LaunchPackage(pluginPackage)

// TestValidateConfigSharesConfiguresChecks checks configurations offline,
// on plugin processes that are never configured and reach nothing: each
// bad one is refused at the attribute where Configure refuses it, and a
// value unknown (a credential not resolved yet) is not checked.
func TestValidateConfigSharesConfiguresChecks(t *testing.T) {
	t.Parallel()
	backendtest.CheckConfigs(t, launchUnconfigured, []backendtest.ConfigCase{
		{Name: "valid", Config: configWith()},
		{Name: "a bad region", Config: configWith("region", "mars-1"), ErrorPath: "region"},
		{Name: "a bad subnet", Config: configWith("subnets", []string{"subnet-1", "10.0.0.0/24"}), ErrorPath: "subnets[1]"},
		{Name: "no subnet", Config: configWith("subnets", []string{}), ErrorPath: "subnets"},
		{Name: "a bad security group", Config: configWith("security_groups", []string{"default"}), ErrorPath: "security_groups[0]"},
		{Name: "a bad role", Config: configWith("execution_role_arn", "ecsTaskExecutionRole"), ErrorPath: "execution_role_arn"},
		{Name: "a bad prefix", Config: configWith("name_prefix", "Has Spaces"), ErrorPath: "name_prefix"},
		{Name: "a listener ARN that is no listener's", Config: configWith("listener_arn", "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/ops/0123abcd"), ErrorPath: "listener_arn"},
		{Name: "an endpoint of an unknown service", Config: configWith("endpoints", map[string]string{"s3": "http://127.0.0.1:1"}), ErrorPath: "endpoints.s3"},
		{Name: "an endpoint that is no URL", Config: configWith("endpoints", map[string]string{"ecs": "file:///etc/passwd"}), ErrorPath: "endpoints.ecs"},
		{Name: "an external id without a role", Config: configWith("external_id", "x"), ErrorPath: "external_id"},
		{Name: "a bad role to assume", Config: configWith("role_arn", "admin"), ErrorPath: "role_arn"},
		{Name: "a retention CloudWatch does not offer", Config: configWith("log_retention_days", 10), ErrorPath: "log_retention_days"},
		{Name: "an empty secret key", Config: configWith("secret_access_key", ""), ErrorPath: "secret_access_key"},
		{Name: "a credential is unknown, and not checked", Config: configWith("secret_access_key", ""), Unknown: sdk.Unknown{"secret_access_key"}},
	})
}
