package aws

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/alphaswarm/controller/sdk"
)

// Destroy deletes the deployment's services (scaled to 0 first), their
// task definitions, secrets, listener rules and target groups, then its
// Cloud Map namespace, and with
// RemoveData its log group. It finds
// them by the names in the state and by their tags, so it works with a
// lost state, and what is already gone is no error.
func (b *Backend) Destroy(ctx context.Context, req *sdk.DestroyRequest) (*sdk.DestroyResponse, error) {
	st, err := decodeState(req.State)
	if err != nil {
		return nil, err
	}
	n := b.namer(req.Deployment)
	found, err := b.findServices(ctx, n)
	if err != nil {
		return nil, err
	}
	names := map[string]bool{}
	for _, s := range st.Services {
		names[s.Name] = true
	}
	for s := range found {
		names[s] = true
	}
	var errs []error
	var tgs []string
	if b.cfg.ListenerARN != "" {
		// First, so the load balancer stops sending to the tasks.
		if tgs, err = b.unpublishRules(ctx, n, nil); err != nil {
			errs = append(errs, err)
		}
	}
	for _, s := range slices.Sorted(maps.Keys(names)) {
		if err := b.deleteService(ctx, n, s); err != nil {
			errs = append(errs, err)
		}
	}
	if b.cfg.ListenerARN != "" && len(errs) == 0 {
		if err := b.deleteTargetGroups(ctx, n, tgs, st.Services); err != nil {
			errs = append(errs, err)
		}
	}
	if err := b.deleteSecrets(ctx, n); err != nil {
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		// After the services: their Service Connect names are in it.
		if err := b.deleteNamespace(ctx, n); err != nil {
			errs = append(errs, err)
		}
	}
	if req.RemoveData {
		_, err := b.clients.logs.DeleteLogGroup(ctx, &cloudwatchlogs.DeleteLogGroupInput{LogGroupName: aws.String(n.logGroup())})
		if err != nil && errorCode(err) != "ResourceNotFoundException" {
			errs = append(errs, b.awsError("delete log group "+n.logGroup(), err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("destroy %s: %w", req.Deployment, err)
	}
	return &sdk.DestroyResponse{}, nil
}

// deleteService scales the ECS service of svc to 0, deletes it, and
// deregisters every revision of its task definition family.
func (b *Backend) deleteService(ctx context.Context, n namer, svc string) error {
	name := n.service(svc)
	_, err := b.clients.ecs.DeleteService(ctx, &ecs.DeleteServiceInput{Cluster: aws.String(b.cfg.Cluster), Service: aws.String(name), Force: aws.Bool(true)})
	switch errorCode(err) {
	case "", "ServiceNotFoundException", "ServiceNotActiveException", "ClusterNotFoundException":
		// Gone, with the cluster too: its task definitions may remain.
	default:
		return b.awsError("delete ECS service "+name, err)
	}
	p := ecs.NewListTaskDefinitionsPaginator(b.clients.ecs, &ecs.ListTaskDefinitionsInput{FamilyPrefix: aws.String(name), Status: ecstypes.TaskDefinitionStatusActive})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return b.awsError("list task definitions of "+name, err)
		}
		for _, arn := range page.TaskDefinitionArns {
			// A family prefix also matches longer families: keep this one's.
			if familyOf(arn) != name {
				continue
			}
			if _, err := b.clients.ecs.DeregisterTaskDefinition(ctx, &ecs.DeregisterTaskDefinitionInput{TaskDefinition: aws.String(arn)}); err != nil {
				return b.awsError("deregister task definition "+arn, err)
			}
		}
	}
	return nil
}

// familyOf returns the family of a task definition ARN.
func familyOf(arn string) string {
	for i := len(arn) - 1; i >= 0; i-- {
		if arn[i] == '/' {
			arn = arn[i+1:]
			break
		}
	}
	for i := len(arn) - 1; i >= 0; i-- {
		if arn[i] == ':' {
			return arn[:i]
		}
	}
	return arn
}

// deleteSecrets deletes every secret of the deployment.
func (b *Backend) deleteSecrets(ctx context.Context, n namer) error {
	return b.eachSecret(ctx, n, func(name, arn string) error {
		_, err := b.clients.sm.DeleteSecret(ctx, &secretsmanager.DeleteSecretInput{SecretId: aws.String(arn), ForceDeleteWithoutRecovery: aws.Bool(true)})
		if err != nil && errorCode(err) != "ResourceNotFoundException" {
			return b.awsError("delete secret "+name, err)
		}
		return nil
	})
}

// eachSecret calls fn with each secret under the deployment's prefix that
// its tags say is the deployment's.
func (b *Backend) eachSecret(ctx context.Context, n namer, fn func(name, arn string) error) error {
	p := secretsmanager.NewListSecretsPaginator(b.clients.sm, &secretsmanager.ListSecretsInput{
		Filters: []smtypes.Filter{{Key: smtypes.FilterNameStringTypeName, Values: []string{n.secretPrefix()}}},
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return b.awsError("list secrets of "+n.ref.String(), err)
		}
		for _, s := range page.SecretList {
			tags := map[string]string{}
			for _, t := range s.Tags {
				tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
			}
			if n.owns(tags) {
				if err := fn(aws.ToString(s.Name), aws.ToString(s.ARN)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// findServices lists the cluster's services and returns those whose tags
// say they are the deployment's, by topology service name.
func (b *Backend) findServices(ctx context.Context, n namer) (map[string]ecstypes.Service, error) {
	var arns []string
	p := ecs.NewListServicesPaginator(b.clients.ecs, &ecs.ListServicesInput{Cluster: aws.String(b.cfg.Cluster)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if errorCode(err) == "ClusterNotFoundException" {
			return nil, nil // no cluster, no services
		}
		if err != nil {
			return nil, b.awsError("list ECS services of cluster "+b.cfg.Cluster, err)
		}
		arns = append(arns, page.ServiceArns...)
	}
	found := map[string]ecstypes.Service{}
	for chunk := range slices.Chunk(arns, 10) {
		out, err := b.clients.ecs.DescribeServices(ctx, &ecs.DescribeServicesInput{
			Cluster: aws.String(b.cfg.Cluster), Services: chunk, Include: []ecstypes.ServiceField{ecstypes.ServiceFieldTags},
		})
		if err != nil {
			return nil, b.awsError("describe ECS services", err)
		}
		for _, svc := range out.Services {
			tags := map[string]string{}
			for _, t := range svc.Tags {
				tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
			}
			if n.owns(tags) && tags[tagService] != "" && n.service(tags[tagService]) == aws.ToString(svc.ServiceName) {
				found[tags[tagService]] = svc
			}
		}
	}
	return found, nil
}
