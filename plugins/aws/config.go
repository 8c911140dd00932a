package aws

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"time"

	"github.com/alphaswarm/controller/sdk"
)

// version is set at build time with -ldflags "-X .../plugins/aws.version=...".
var version = "0.1.0"

// config is the body of a backend "aws" "<name>" block.
type config struct {
	Region           string            `json:"region"`
	AccessKeyID      string            `json:"access_key_id"`
	SecretAccessKey  string            `json:"secret_access_key"`
	SessionToken     string            `json:"session_token"`
	WebIdentityToken string            `json:"web_identity_token"`
	UseDefaultCreds  bool              `json:"use_default_credentials"`
	RoleARN          string            `json:"role_arn"`
	ExternalID       string            `json:"external_id"`
	RoleSessionName  string            `json:"role_session_name"`
	Cluster          string            `json:"cluster"`
	CreateCluster    bool              `json:"create_cluster"`
	LogRetentionDays float64           `json:"log_retention_days"`
	Subnets          []string          `json:"subnets"`
	SecurityGroups   []string          `json:"security_groups"`
	AssignPublicIP   bool              `json:"assign_public_ip"`
	ExecutionRoleARN string            `json:"execution_role_arn"`
	TaskRoleARN      string            `json:"task_role_arn"`
	NamePrefix       string            `json:"name_prefix"`
	ListenerARN      string            `json:"listener_arn"`
	Endpoints        map[string]string `json:"endpoints"`
	RolloutTimeout   string            `json:"rollout_timeout"`

	rolloutTimeout time.Duration
}

// retentionDays are the retention periods CloudWatch Logs accepts.
var retentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

// endpointServices are the keys the endpoints map accepts.
var endpointServices = []string{"ecs", "logs", "secretsmanager", "cloudwatch", "sts", "servicediscovery", "elasticloadbalancing"}

var schema = sdk.Schema{
	Attributes: []sdk.Attribute{
		{Name: "region", Type: sdk.TypeString, Required: true, Description: "AWS region, such as eu-west-1."},
		{Name: "access_key_id", Type: sdk.TypeString, Default: "", Sensitive: true,
			Description: "Access key id of the IAM identity the plugin acts as (or that assumes role_arn), given by reference: credential(\"...\"). Set exactly one kind of credentials: these keys, web_identity_token, or use_default_credentials."},
		{Name: "secret_access_key", Type: sdk.TypeString, Default: "", Sensitive: true,
			Description: "Secret access key of access_key_id, by reference: credential(\"...\")."},
		{Name: "session_token", Type: sdk.TypeString, Default: "", Sensitive: true,
			Description: "Session token, for temporary credentials, by reference: credential(\"...\")."},
		{Name: "web_identity_token", Type: sdk.TypeString, Default: "", Sensitive: true,
			Description: "An OIDC web identity token (IRSA: the service account's projected token) that assumes role_arn through STS AssumeRoleWithWebIdentity, by reference: credential(\"...\"); never a file path."},
		{Name: "use_default_credentials", Type: sdk.TypeBool, Default: false,
			Description: "Take credentials from the plugin's environment as AWS's default chain does (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_WEB_IDENTITY_TOKEN_FILE with AWS_ROLE_ARN, the ECS container credentials endpoint); off by default."},
		{Name: "role_arn", Type: sdk.TypeString, Default: "",
			Description: "A role the credentials assume (STS AssumeRole) for every call, or the role web_identity_token assumes (required with it); empty: the credentials act themselves."},
		{Name: "external_id", Type: sdk.TypeString, Default: "", Sensitive: true,
			Description: "The external id the role's trust policy asks for, by reference: credential(\"...\")."},
		{Name: "role_session_name", Type: sdk.TypeString, Default: "alphaswarm", Description: "The session name of the assumed role, as CloudTrail shows it."},
		{Name: "cluster", Type: sdk.TypeString, Required: true, Description: "Name of the ECS cluster services run in; it must exist."},
		{Name: "create_cluster", Type: sdk.TypeBool, Default: false,
			Description: "Create the cluster (Fargate capacity providers, Container Insights enhanced) when it does not exist, at the first apply; false: a missing cluster is a configuration error."},
		{Name: "log_retention_days", Type: sdk.TypeNumber, Default: 30,
			Description: "How long the deployments' log groups keep lines: one of CloudWatch Logs' retention periods (1, 3, 5, 7, 14, 30, 60, 90, ... 3653); 0 keeps them for ever."},
		{Name: "subnets", Type: sdk.ListOf(sdk.TypeString), Required: true, Description: "Subnet IDs of the tasks' awsvpc network interfaces."},
		{Name: "security_groups", Type: sdk.ListOf(sdk.TypeString), Default: []any{}, Description: "Security group IDs of the tasks; empty: the VPC's default group."},
		{Name: "assign_public_ip", Type: sdk.TypeBool, Default: false, Description: "Give tasks a public IP (needed to pull images from a public subnet without a NAT gateway)."},
		{Name: "execution_role_arn", Type: sdk.TypeString, Required: true,
			Description: "Task execution role: lets ECS pull images, write logs and read the deployment's secrets."},
		{Name: "task_role_arn", Type: sdk.TypeString, Default: "", Description: "Role the containers act as; empty: none."},
		{Name: "name_prefix", Type: sdk.TypeString, Default: "as",
			Description: "Prefix of every name the plugin gives (services, task definition families, log groups, secrets): letters, digits and '-', at most 16."},
		{Name: "listener_arn", Type: sdk.TypeString, Default: "",
			Description: "ARN of an application load balancer listener that published ports go through (a target group and a path rule per port); empty: published ports are dropped."},
		{Name: "endpoints", Type: sdk.MapOf(sdk.TypeString), Default: map[string]any{},
			Description: "Endpoint URL per service (ecs, logs, secretsmanager, cloudwatch, sts, servicediscovery, elasticloadbalancing), for VPC endpoints or an emulator; empty: AWS's."},
		{Name: "rollout_timeout", Type: sdk.TypeString, Default: "10m", TenantSettable: true,
			Description: "How long apply waits for the services' rollouts to complete."},
	},
}

var (
	regionRE  = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d$`)
	prefixRE  = regexp.MustCompile(`^[a-z][a-z0-9-]{0,15}$`)
	subnetRE  = regexp.MustCompile(`^subnet-[0-9a-z]+$`)
	sgRE      = regexp.MustCompile(`^sg-[0-9a-z]+$`)
	roleRE    = regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$`)
	nameRE    = regexp.MustCompile(`^[A-Za-z0-9_-]{1,255}$`)
	sessionRE = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)
	listenRE  = regexp.MustCompile(`^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:listener/app/[\w-]+/[0-9a-f]+/[0-9a-f]+$`)
)

// checkCredentialKind checks that the configuration gives exactly one kind
// of credentials, complete: both static keys; a web identity token with the
// role it assumes; or the default chain. A value unknown (a credential not
// resolved yet) counts as given.
func checkCredentialKind(c config, unknown sdk.Unknown) error {
	given := func(path, v string) bool { return unknown.Has(path) || v != "" }
	var kinds []string
	static := given("access_key_id", c.AccessKeyID) || given("secret_access_key", c.SecretAccessKey)
	if static {
		kinds = append(kinds, credsStatic)
	}
	if given("web_identity_token", c.WebIdentityToken) {
		kinds = append(kinds, credsWebIdentity)
	}
	if unknown.Has("use_default_credentials") || c.UseDefaultCreds {
		kinds = append(kinds, credsDefault)
	}
	switch {
	case len(kinds) == 0:
		return sdk.InvalidConfig("access_key_id", "no credentials: set access_key_id and secret_access_key, or web_identity_token with role_arn, or use_default_credentials = true")
	case len(kinds) > 1:
		path := credsWebIdentity
		if kinds[1] == credsDefault {
			path = credsDefault
		}
		return sdk.InvalidConfig(path, "set exactly one kind of credentials, not both %s and %s", kinds[0], kinds[1])
	case static && !given("access_key_id", c.AccessKeyID):
		return sdk.InvalidConfig("access_key_id", "must not be empty when secret_access_key is set")
	case static && !given("secret_access_key", c.SecretAccessKey):
		return sdk.InvalidConfig("secret_access_key", "must not be empty when access_key_id is set")
	case !static && given("session_token", c.SessionToken):
		return sdk.InvalidConfig("session_token", "a session token goes with access_key_id and secret_access_key")
	case kinds[0] == credsWebIdentity && !given("role_arn", c.RoleARN):
		return sdk.InvalidConfig("role_arn", "web_identity_token needs the role it assumes in role_arn")
	}
	return nil
}

// parseConfig decodes and checks a configuration. Configure and
// ValidateConfig both call it, so validate accepts what Configure does; it
// skips the values in unknown and reaches nothing.
func parseConfig(raw json.RawMessage, unknown sdk.Unknown) (config, error) {
	var c config
	if err := sdk.DecodeConfig(raw, &c); err != nil {
		return c, err
	}
	known := func(path string) bool { return !unknown.Has(path) }
	if known("region") && !regionRE.MatchString(c.Region) {
		return c, sdk.InvalidConfig("region", "%q is not an AWS region such as eu-west-1", c.Region)
	}
	if err := checkCredentialKind(c, unknown); err != nil {
		return c, err
	}
	if known("role_arn") && c.RoleARN != "" && !roleRE.MatchString(c.RoleARN) {
		return c, sdk.InvalidConfig("role_arn", "%q is not an IAM role ARN", c.RoleARN)
	}
	if known("external_id") && known("role_arn") && c.ExternalID != "" && c.RoleARN == "" {
		return c, sdk.InvalidConfig("external_id", "an external id needs role_arn")
	}
	if known("external_id") && c.ExternalID != "" && (unknown.Has("web_identity_token") || c.WebIdentityToken != "") {
		return c, sdk.InvalidConfig("external_id", "an external id is for AssumeRole, not for web_identity_token")
	}
	if known("role_session_name") && !sessionRE.MatchString(c.RoleSessionName) {
		return c, sdk.InvalidConfig("role_session_name", "%q must be 2 to 64 letters, digits and =,.@-", c.RoleSessionName)
	}
	if known("cluster") && !nameRE.MatchString(c.Cluster) {
		return c, sdk.InvalidConfig("cluster", "%q is not a cluster name (letters, digits, '-' and '_', at most 255)", c.Cluster)
	}
	if known("log_retention_days") && c.LogRetentionDays != 0 &&
		(c.LogRetentionDays != float64(int(c.LogRetentionDays)) || !slices.Contains(retentionDays, int(c.LogRetentionDays))) {
		return c, sdk.InvalidConfig("log_retention_days", "%v is not a CloudWatch Logs retention period: one of %v, or 0", c.LogRetentionDays, retentionDays)
	}
	if len(c.Subnets) == 0 && known("subnets") {
		return c, sdk.InvalidConfig("subnets", "at least one subnet is needed")
	}
	for i, s := range c.Subnets {
		if p := fmt.Sprintf("subnets[%d]", i); known(p) && known("subnets") && !subnetRE.MatchString(s) {
			return c, sdk.InvalidConfig(p, "%q is not a subnet ID such as subnet-0abc123", s)
		}
	}
	for i, s := range c.SecurityGroups {
		if p := fmt.Sprintf("security_groups[%d]", i); known(p) && known("security_groups") && !sgRE.MatchString(s) {
			return c, sdk.InvalidConfig(p, "%q is not a security group ID such as sg-0abc123", s)
		}
	}
	if known("execution_role_arn") && !roleRE.MatchString(c.ExecutionRoleARN) {
		return c, sdk.InvalidConfig("execution_role_arn", "%q is not an IAM role ARN", c.ExecutionRoleARN)
	}
	if known("task_role_arn") && c.TaskRoleARN != "" && !roleRE.MatchString(c.TaskRoleARN) {
		return c, sdk.InvalidConfig("task_role_arn", "%q is not an IAM role ARN", c.TaskRoleARN)
	}
	if known("listener_arn") && c.ListenerARN != "" && !listenRE.MatchString(c.ListenerARN) {
		return c, sdk.InvalidConfig("listener_arn", "%q is not the ARN of an application load balancer listener", c.ListenerARN)
	}
	if known("name_prefix") && !prefixRE.MatchString(c.NamePrefix) {
		return c, sdk.InvalidConfig("name_prefix", "%q must start with a lower-case letter and be lower-case letters, digits and '-', at most 16", c.NamePrefix)
	}
	for k, v := range c.Endpoints {
		p := "endpoints." + k
		if !slices.Contains(endpointServices, k) {
			return c, sdk.InvalidConfig(p, "unknown service %q; endpoints can be set for %v", k, endpointServices)
		}
		if !known(p) || !known("endpoints") {
			continue
		}
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
			return c, sdk.InvalidConfig(p, "%q is not an http(s) URL", v)
		}
	}
	if known("rollout_timeout") {
		var err error
		if c.rolloutTimeout, err = time.ParseDuration(c.RolloutTimeout); err != nil || c.rolloutTimeout <= 0 {
			return c, sdk.InvalidConfig("rollout_timeout", "%q is not a positive duration such as \"10m\"", c.RolloutTimeout)
		}
	}
	return c, nil
}

func (b *Backend) Info(context.Context) (*sdk.InfoResponse, error) {
	return &sdk.InfoResponse{
		Name: "aws", Version: version, ConfigSchema: schema,
		Description: "Runs deployments as ECS services on AWS Fargate.",
	}, nil
}

// ValidateConfig checks a configuration offline, with parseConfig.
func (b *Backend) ValidateConfig(_ context.Context, req *sdk.ValidateConfigRequest) (*sdk.ValidateConfigResponse, error) {
	_, err := parseConfig(req.Config, req.Unknown)
	return &sdk.ValidateConfigResponse{}, err
}

// Configure builds the clients and checks that the cluster exists, so that
// wrong credentials or a wrong cluster fail here.
func (b *Backend) Configure(ctx context.Context, req *sdk.ConfigureRequest) (*sdk.ConfigureResponse, error) {
	c, err := parseConfig(req.Config, nil)
	if err != nil {
		return nil, err
	}
	b.cfg = c
	b.clients = newClients(c)
	if err := b.checkCluster(ctx); err != nil {
		var invalid *sdk.InvalidConfigError
		if !c.CreateCluster || !errors.As(err, &invalid) {
			return nil, err
		}
	}
	return &sdk.ConfigureResponse{}, nil
}
