// Package aws is the AWS backend: it runs alphaswarm deployments on Amazon
// ECS with the Fargate launch type, through aws-sdk-go-v2. Each service of a
// deployment is an ECS service (awsvpc networking, in the operator's subnets
// and security groups) running revisions of a task definition of its own;
// its logs go to one CloudWatch Logs group per deployment through the
// awslogs driver; secret values go to Secrets Manager under names scoped to
// the tenant, and the task definition holds only their ARNs (valueFrom).
// Everything it creates is tagged alphaswarm:tenant, alphaswarm:environment,
// alphaswarm:deployment and alphaswarm:service, and named deterministically
// within AWS's limits, with a hash suffix rather than truncation.
//
// Apply is idempotent: a service whose task definition (compared by a hash
// tag) and desired count are as asked is left alone; a service or published
// port the spec no longer has is deleted with its target group, listener
// rule and Cloud Map service. It waits, through
// sdk.Poll, for every rollout to complete. Tests run against the emulator in
// internal/awsemu, which speaks the same wire protocol as AWS. Exec is not
// declared (ECS Exec needs the SSM Session Manager data channel); the
// plugin gives that reason through sdk.UnsupportedReasoner.
package aws
