package aws

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/alphaswarm/controller/sdk"
)

// clients are the AWS service clients of one configured backend.
type clients struct {
	ecs  *ecs.Client
	logs *cloudwatchlogs.Client
	sm   *secretsmanager.Client
	cw   *cloudwatch.Client
	sd   *servicediscovery.Client
	elb  *elasticloadbalancingv2.Client
}

// newClients builds the clients from the configuration alone: no shared
// config file, no environment variable, no instance metadata is read
// (unless the operator set use_default_credentials, and then only what
// defaultChain reads), so nothing but what the operator registered
// decides where the plugin goes and as whom.
func newClients(c config) clients {
	endpoint := func(name string) *string {
		if u := c.Endpoints[name]; u != "" {
			return aws.String(u)
		}
		return nil
	}
	cfg := aws.Config{
		Region:     c.Region,
		HTTPClient: &http.Client{Timeout: 60 * time.Second},
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = 6
				o.MaxBackoff = 5 * time.Second
			})
		},
		AppID: "alphaswarm-" + version,
	}
	// STS without credentials: AssumeRoleWithWebIdentity is unsigned.
	base, assumed := baseCredentials(c, sts.NewFromConfig(cfg, func(o *sts.Options) { o.BaseEndpoint = endpoint("sts") }))
	cfg.Credentials = aws.NewCredentialsCache(base)
	if c.RoleARN != "" && !assumed {
		// The credentials assume the role; the cache renews the session
		// before it expires.
		stsClient := sts.NewFromConfig(cfg, func(o *sts.Options) { o.BaseEndpoint = endpoint("sts") })
		cfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(stsClient, c.RoleARN, func(o *stscreds.AssumeRoleOptions) {
			o.RoleSessionName = c.RoleSessionName
			if c.ExternalID != "" {
				o.ExternalID = aws.String(c.ExternalID)
			}
		}))
	}
	return clients{
		ecs:  ecs.NewFromConfig(cfg, func(o *ecs.Options) { o.BaseEndpoint = endpoint("ecs") }),
		logs: cloudwatchlogs.NewFromConfig(cfg, func(o *cloudwatchlogs.Options) { o.BaseEndpoint = endpoint("logs") }),
		sm:   secretsmanager.NewFromConfig(cfg, func(o *secretsmanager.Options) { o.BaseEndpoint = endpoint("secretsmanager") }),
		cw:   cloudwatch.NewFromConfig(cfg, func(o *cloudwatch.Options) { o.BaseEndpoint = endpoint("cloudwatch") }),
		elb:  elasticloadbalancingv2.NewFromConfig(cfg, func(o *elasticloadbalancingv2.Options) { o.BaseEndpoint = endpoint("elasticloadbalancing") }),
		sd:   servicediscovery.NewFromConfig(cfg, func(o *servicediscovery.Options) { o.BaseEndpoint = endpoint("servicediscovery") }),
	}
}

// checkCluster makes sure the configured cluster exists and is active.
func (b *Backend) checkCluster(ctx context.Context) error {
	out, err := b.clients.ecs.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{b.cfg.Cluster}})
	if err != nil {
		return b.awsError("describe cluster "+b.cfg.Cluster, err)
	}
	if len(out.Clusters) == 0 || aws.ToString(out.Clusters[0].Status) != "ACTIVE" {
		return sdk.InvalidConfig("cluster", "ECS cluster %q does not exist in %s, or is not active", b.cfg.Cluster, b.cfg.Region)
	}
	return nil
}

// errorCode returns the AWS error code of err, "" when it has none.
func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// awsError wraps err for the operation what: expired or wrong credentials
// become a clear error, throttling and server errors that survived the
// SDK's retries become retriable ones, cancellation stays cancellation.
func (b *Backend) awsError(what string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w", what, err)
	}
	switch code := errorCode(err); code {
	case "ExpiredTokenException", "ExpiredToken", "RequestExpired":
		return fmt.Errorf("%s: the AWS credentials of backend instance in %s have expired; the operator must renew the credential they come from (access keys or web identity token): %w", what, b.cfg.Region, err)
	case "UnrecognizedClientException", "InvalidClientTokenId", "InvalidSignatureException", "SignatureDoesNotMatch", "AccessDeniedException", "AccessDenied":
		return fmt.Errorf("%s: AWS refused the backend's credentials (%s): %w", what, code, err)
	case "ClusterNotFoundException":
		return fmt.Errorf("%s: ECS cluster %q does not exist in %s (deleted since the backend was registered?); the operator must create it or register the backend again: %w",
			what, b.cfg.Cluster, b.cfg.Region, err)
	case "ThrottlingException", "ServerException", "InternalFailure", "ServiceUnavailable", "InternalServiceError":
		return &sdk.UnavailableError{Message: fmt.Sprintf("%s: %v", what, err)}
	}
	return fmt.Errorf("%s: %w", what, err)
}
