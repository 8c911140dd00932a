package aws

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/endpointcreds"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// The credential kinds a configuration can give; parseConfig accepts
// exactly one.
const (
	credsStatic      = "access_key_id and secret_access_key"
	credsWebIdentity = "web_identity_token"
	credsDefault     = "use_default_credentials"
)

// tokenValue is a web identity token the operator's secret store gave.
type tokenValue string

func (t tokenValue) GetIdentityToken() ([]byte, error) { return []byte(t), nil }

// baseCredentials returns the provider of the configuration's credential
// kind, before role_arn is assumed with them: the static keys, the web
// identity token (which assumes role_arn itself, so assumed reports
// true), or the default chain.
func baseCredentials(c config, stsClient *sts.Client) (provider aws.CredentialsProvider, assumed bool) {
	switch {
	case c.WebIdentityToken != "":
		return stscreds.NewWebIdentityRoleProvider(stsClient, c.RoleARN, tokenValue(c.WebIdentityToken), func(o *stscreds.WebIdentityRoleOptions) {
			o.RoleSessionName = c.RoleSessionName
		}), true
	case c.UseDefaultCreds:
		return defaultChain{sts: stsClient, getenv: os.Getenv}, false
	default:
		return credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken), false
	}
}

// defaultChain is the part of AWS's default credential chain the plugin
// reads, in AWS's order, when the operator sets use_default_credentials:
// the keys in the environment, then the web identity token file EKS
// injects for IRSA, then the ECS container credentials endpoint. It reads
// no shared file (~/.aws), no SSO cache, runs no credential_process and
// asks no EC2 instance metadata.
type defaultChain struct {
	sts    *sts.Client
	getenv func(string) string
}

// defaultChainReads names what defaultChain looks at, for its error.
const defaultChainReads = "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN); AWS_WEB_IDENTITY_TOKEN_FILE with AWS_ROLE_ARN; " +
	"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or AWS_CONTAINER_CREDENTIALS_FULL_URI"

func (d defaultChain) Retrieve(ctx context.Context) (aws.Credentials, error) {
	env := d.getenv
	if id, secret := env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY"); id != "" || secret != "" {
		if id == "" || secret == "" {
			return aws.Credentials{}, errors.New("default credential chain: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set together")
		}
		return aws.Credentials{AccessKeyID: id, SecretAccessKey: secret, SessionToken: env("AWS_SESSION_TOKEN"), Source: "EnvConfigCredentials"}, nil
	}
	if file := env("AWS_WEB_IDENTITY_TOKEN_FILE"); file != "" {
		role := env("AWS_ROLE_ARN")
		if role == "" {
			return aws.Credentials{}, errors.New("default credential chain: AWS_WEB_IDENTITY_TOKEN_FILE is set without AWS_ROLE_ARN")
		}
		p := stscreds.NewWebIdentityRoleProvider(d.sts, role, stscreds.IdentityTokenFile(file), func(o *stscreds.WebIdentityRoleOptions) {
			o.RoleSessionName = env("AWS_ROLE_SESSION_NAME")
		})
		creds, err := p.Retrieve(ctx)
		if err != nil {
			return creds, fmt.Errorf("default credential chain: assume %s with the web identity token of AWS_WEB_IDENTITY_TOKEN_FILE: %w", role, err)
		}
		return creds, nil
	}
	uri := env("AWS_CONTAINER_CREDENTIALS_FULL_URI")
	if rel := env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"); rel != "" {
		uri = "http://169.254.170.2" + rel
	}
	if uri != "" {
		p := endpointcreds.New(uri, func(o *endpointcreds.Options) {
			o.AuthorizationToken = env("AWS_CONTAINER_AUTHORIZATION_TOKEN")
			if file := env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"); file != "" {
				o.AuthorizationTokenProvider = endpointcreds.TokenProviderFunc(func() (string, error) {
					b, err := os.ReadFile(file)
					if err != nil {
						return "", fmt.Errorf("read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: %w", err)
					}
					return strings.TrimSpace(string(b)), nil
				})
			}
		})
		creds, err := p.Retrieve(ctx)
		if err != nil {
			return creds, fmt.Errorf("default credential chain: get credentials from the container endpoint: %w", err)
		}
		return creds, nil
	}
	return aws.Credentials{}, errors.New("default credential chain found no credentials: it reads " + defaultChainReads +
		" from the plugin's environment, and found none of them")
}
