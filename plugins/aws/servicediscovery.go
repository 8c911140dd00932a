package aws

import (
	"context"
	"crypto/rand"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	sdtypes "github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/sdk"
)

// Services reach each other by name through ECS Service Connect, in one
// Cloud Map HTTP namespace per deployment: discovery names are the
// topology's service names, which other deployments reuse, and a
// namespace of their own keeps them apart.

// maxDiscoveryName is Service Connect's limit on a discovery name.
const maxDiscoveryName = 64

// ensureNamespace returns the ARN of the deployment's Cloud Map HTTP
// namespace, creating it (an asynchronous operation, polled) when absent.
func (b *Backend) ensureNamespace(ctx context.Context, n namer, progress *sdk.Progress) (string, error) {
	name := n.namespace()
	ns, err := b.findNamespace(ctx, name)
	if err != nil {
		return "", err
	}
	if ns != nil {
		return aws.ToString(ns.Arn), nil
	}
	progress.Infof("", "", "creating Cloud Map namespace %s", name)
	var tags []sdtypes.Tag
	for k, v := range n.tags("") {
		tags = append(tags, sdtypes.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	slices.SortFunc(tags, func(a, b sdtypes.Tag) int { return strings.Compare(*a.Key, *b.Key) })
	out, err := b.clients.sd.CreateHttpNamespace(ctx, &servicediscovery.CreateHttpNamespaceInput{
		Name: aws.String(name), CreatorRequestId: aws.String(rand.Text()), Tags: tags,
		Description: aws.String("alphaswarm deployment " + n.ref.String()),
	})
	if errorCode(err) == "NamespaceAlreadyExists" {
		// Another apply of the deployment created it meanwhile: wait
		// until it is listed.
		err = sdk.Poll(ctx, sdk.PollOptions{Interval: 200 * time.Millisecond, MaxInterval: 2 * time.Second, Timeout: b.cfg.rolloutTimeout},
			func(ctx context.Context) (bool, error) {
				ns, err = b.findNamespace(ctx, name)
				return ns != nil, err
			})
		if err != nil {
			return "", fmt.Errorf("find Cloud Map namespace %s: %w", name, err)
		}
		return aws.ToString(ns.Arn), nil
	}
	if err != nil {
		return "", b.awsError("create Cloud Map namespace "+name, err)
	}
	id, err := b.waitOperation(ctx, "create Cloud Map namespace "+name, aws.ToString(out.OperationId))
	if err != nil {
		return "", err
	}
	got, err := b.clients.sd.GetNamespace(ctx, &servicediscovery.GetNamespaceInput{Id: aws.String(id)})
	if err != nil {
		return "", b.awsError("get Cloud Map namespace "+name, err)
	}
	return aws.ToString(got.Namespace.Arn), nil
}

// findNamespace returns the Cloud Map namespace called name, nil when
// there is none.
func (b *Backend) findNamespace(ctx context.Context, name string) (*sdtypes.NamespaceSummary, error) {
	p := servicediscovery.NewListNamespacesPaginator(b.clients.sd, &servicediscovery.ListNamespacesInput{
		Filters: []sdtypes.NamespaceFilter{{Name: sdtypes.NamespaceFilterNameName, Values: []string{name}, Condition: sdtypes.FilterConditionEq}},
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, b.awsError("list Cloud Map namespaces", err)
		}
		for i := range page.Namespaces {
			if aws.ToString(page.Namespaces[i].Name) == name {
				return &page.Namespaces[i], nil
			}
		}
	}
	return nil, nil
}

// waitOperation polls the Cloud Map operation id until it succeeds, and
// returns the namespace it targets.
func (b *Backend) waitOperation(ctx context.Context, what, id string) (string, error) {
	var target string
	err := sdk.Poll(ctx, sdk.PollOptions{Interval: 100 * time.Millisecond, MaxInterval: 2 * time.Second, Timeout: b.cfg.rolloutTimeout},
		func(ctx context.Context) (bool, error) {
			out, err := b.clients.sd.GetOperation(ctx, &servicediscovery.GetOperationInput{OperationId: aws.String(id)})
			if err != nil {
				return false, b.awsError(what+": get operation "+id, err)
			}
			switch out.Operation.Status {
			case sdtypes.OperationStatusSuccess:
				target = out.Operation.Targets[string(sdtypes.OperationTargetTypeNamespace)]
				return true, nil
			case sdtypes.OperationStatusFail:
				return false, fmt.Errorf("%s: operation %s failed: %s: %s", what, id, aws.ToString(out.Operation.ErrorCode), aws.ToString(out.Operation.ErrorMessage))
			}
			return false, nil
		})
	if err != nil && ctx.Err() == nil {
		return "", fmt.Errorf("wait for %s: %w", what, err)
	}
	return target, err
}

// deleteNamespace deletes the deployment's namespace, after the Cloud Map
// services Service Connect made in it (which stay in use while the ECS
// services' tasks drain). A namespace already gone is no error.
func (b *Backend) deleteNamespace(ctx context.Context, n namer) error {
	name := n.namespace()
	ns, err := b.findNamespace(ctx, name)
	if err != nil || ns == nil {
		return err
	}
	err = sdk.Poll(ctx, sdk.PollOptions{Interval: 200 * time.Millisecond, MaxInterval: 3 * time.Second, Timeout: b.cfg.rolloutTimeout},
		func(ctx context.Context) (bool, error) {
			busy, err := b.deleteDiscoveryServices(ctx, aws.ToString(ns.Id), name, func(string) bool { return true })
			if err != nil || busy {
				return false, err
			}
			out, err := b.clients.sd.DeleteNamespace(ctx, &servicediscovery.DeleteNamespaceInput{Id: ns.Id})
			switch errorCode(err) {
			case "NamespaceNotFound":
				return true, nil
			case "ResourceInUse":
				return false, nil
			case "":
				_, err := b.waitOperation(ctx, "delete Cloud Map namespace "+name, aws.ToString(out.OperationId))
				return true, err
			}
			return false, b.awsError("delete Cloud Map namespace "+name, err)
		})
	if err != nil && ctx.Err() == nil {
		return fmt.Errorf("delete Cloud Map namespace %s: %w", name, err)
	}
	return err
}

// serviceConnect is the Service Connect configuration of svc in the
// namespace nsARN: each TCP port is served under the topology's service
// name (discovery name svc for the first port, svc-<port name> for the
// others, which Cloud Map needs unique), so that name:port resolves
// inside the deployment; a service without such ports is a client only.
func serviceConnect(svc *core.ServiceSpec, nsARN string) *ecstypes.ServiceConnectConfiguration {
	sc := &ecstypes.ServiceConnectConfiguration{Enabled: true, Namespace: aws.String(nsARN)}
	for _, p := range svc.Ports {
		if p.Protocol == core.ProtocolUDP {
			continue
		}
		discovery := svc.Name
		if len(sc.Services) > 0 {
			discovery = fit(svc.Name+"-"+p.Name, hash8(svc.Name, p.Name), maxDiscoveryName)
			if len(svc.Name)+1+len(p.Name) <= maxDiscoveryName {
				discovery = svc.Name + "-" + p.Name
			}
		}
		sc.Services = append(sc.Services, ecstypes.ServiceConnectService{
			PortName: aws.String(p.Name), DiscoveryName: aws.String(discovery),
			ClientAliases: []ecstypes.ServiceConnectClientAlias{{Port: aws.Int32(int32(p.Container)), DnsName: aws.String(svc.Name)}},
		})
	}
	return sc
}

// sameServiceConnect reports whether the primary deployment of cur runs
// with the Service Connect configuration want.
func sameServiceConnect(cur *ecstypes.Service, want *ecstypes.ServiceConnectConfiguration) bool {
	if len(cur.Deployments) == 0 {
		return false
	}
	have := cur.Deployments[0].ServiceConnectConfiguration
	if have == nil || !have.Enabled || aws.ToString(have.Namespace) != aws.ToString(want.Namespace) || len(have.Services) != len(want.Services) {
		return false
	}
	for i, w := range want.Services {
		h := have.Services[i]
		if aws.ToString(h.PortName) != aws.ToString(w.PortName) || aws.ToString(h.DiscoveryName) != aws.ToString(w.DiscoveryName) ||
			len(h.ClientAliases) != 1 || aws.ToInt32(h.ClientAliases[0].Port) != aws.ToInt32(w.ClientAliases[0].Port) ||
			aws.ToString(h.ClientAliases[0].DnsName) != aws.ToString(w.ClientAliases[0].DnsName) {
			return false
		}
	}
	return true
}

// deleteDiscoveryServices deletes the Cloud Map services of the namespace
// id (called name) whose names drop says, and reports whether one was still
// in use (its ECS service's tasks are registered under it until they have
// drained).
func (b *Backend) deleteDiscoveryServices(ctx context.Context, id, name string, drop func(string) bool) (busy bool, err error) {
	p := servicediscovery.NewListServicesPaginator(b.clients.sd, &servicediscovery.ListServicesInput{
		Filters: []sdtypes.ServiceFilter{{Name: sdtypes.ServiceFilterNameNamespaceId, Values: []string{id}, Condition: sdtypes.FilterConditionEq}},
	})
	// List them all first: deleting while paginating would move the pages.
	var services []sdtypes.ServiceSummary
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return false, b.awsError("list Cloud Map services of namespace "+name, err)
		}
		services = append(services, page.Services...)
	}
	for _, s := range services {
		if !drop(aws.ToString(s.Name)) {
			continue
		}
		_, err := b.clients.sd.DeleteService(ctx, &servicediscovery.DeleteServiceInput{Id: s.Id})
		switch errorCode(err) {
		case "", "ServiceNotFound":
		case "ResourceInUse":
			busy = true
		default:
			return false, b.awsError("delete Cloud Map service "+aws.ToString(s.Name)+" of namespace "+name, err)
		}
	}
	return busy, nil
}

// discoveryNames are the Cloud Map service names Service Connect serves
// for services.
func discoveryNames(services []core.ServiceSpec) map[string]bool {
	names := map[string]bool{}
	for i := range services {
		for _, s := range serviceConnect(&services[i], "").Services {
			names[aws.ToString(s.DiscoveryName)] = true
		}
	}
	return names
}

// pruneDiscovery deletes the Cloud Map services of the discovery names that
// prior served and spec no longer does (a service removed, a port dropped):
// ECS leaves them in the namespace. It waits while the tasks of the
// deployments that served them drain.
func (b *Backend) pruneDiscovery(ctx context.Context, n namer, prior, spec []core.ServiceSpec) error {
	keep := discoveryNames(spec)
	gone := false
	for name := range discoveryNames(prior) {
		gone = gone || !keep[name]
	}
	if !gone {
		return nil
	}
	name := n.namespace()
	ns, err := b.findNamespace(ctx, name)
	if err != nil || ns == nil {
		return err
	}
	err = sdk.Poll(ctx, sdk.PollOptions{Interval: 200 * time.Millisecond, MaxInterval: 3 * time.Second, Timeout: b.cfg.rolloutTimeout},
		func(ctx context.Context) (bool, error) {
			busy, err := b.deleteDiscoveryServices(ctx, aws.ToString(ns.Id), name, func(s string) bool { return !keep[s] })
			return !busy, err
		})
	if err != nil && ctx.Err() == nil {
		return fmt.Errorf("delete the Cloud Map services no service uses in namespace %s: %w", name, err)
	}
	return err
}
