package awsemu

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// TestAssumeRoleWithWebIdentity: the real STS client's unsigned call with
// the registered token gets session credentials in AWS's shape, which
// then sign ECS calls the emulator accepts as the role; a wrong token is
// InvalidIdentityToken, a role without a trusted provider AccessDenied.
func TestAssumeRoleWithWebIdentity(t *testing.T) {
	t.Parallel()
	s := start(t)
	ctx := context.Background()
	role := "arn:aws:iam::" + AccountID + ":role/irsa"
	s.AddWebIdentityRole(role, "the-token")
	c := sts.New(sts.Options{Region: "us-east-1", BaseEndpoint: aws.String(s.URL), Retryer: retry.AddWithMaxAttempts(retry.NewStandard(), 1)})
	assume := func(role, token string) (*sts.AssumeRoleWithWebIdentityOutput, error) {
		return c.AssumeRoleWithWebIdentity(ctx, &sts.AssumeRoleWithWebIdentityInput{RoleArn: aws.String(role), RoleSessionName: aws.String("t"), WebIdentityToken: aws.String(token)})
	}
	out, err := assume(role, "the-token")
	if err != nil {
		t.Fatalf("assume: %v", err)
	}
	if out.Credentials == nil || out.Credentials.Expiration == nil || aws.ToString(out.AssumedRoleUser.Arn) != "arn:aws:sts::"+AccountID+":assumed-role/irsa/t" ||
		aws.ToString(out.SubjectFromWebIdentityToken) == "" {
		t.Fatalf("answer: %+v", out)
	}
	cr := out.Credentials
	e := client(t, s, aws.ToString(cr.AccessKeyId), aws.ToString(cr.SecretAccessKey))
	e2 := ecs.New(e.Options(), func(o *ecs.Options) {
		o.Credentials = aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: *cr.AccessKeyId, SecretAccessKey: *cr.SecretAccessKey, SessionToken: *cr.SessionToken}, nil
		})
	})
	if _, err := e2.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{"c"}}); err != nil || s.AssumedCalls(role) != 1 {
		t.Errorf("a call with the session: %v, %d calls as the role", err, s.AssumedCalls(role))
	}
	if _, err := e.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{"c"}}); code(err) != "UnrecognizedClientException" {
		t.Errorf("the session's keys without its token: %v", err)
	}
	if _, err := assume(role, "another-token"); code(err) != "InvalidIdentityToken" {
		t.Errorf("a wrong token: %v", err)
	}
	if _, err := assume("arn:aws:iam::"+AccountID+":role/other", "the-token"); code(err) != "AccessDenied" {
		t.Errorf("a role that trusts no provider: %v", err)
	}
	resp, err := http.Get(s.URL + StatePath)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var snap Snapshot
	if err := json.NewDecoder(resp.Body).Decode(&snap); err != nil || resp.StatusCode != 200 {
		t.Errorf("state endpoint: %d %v", resp.StatusCode, err)
	}
}
