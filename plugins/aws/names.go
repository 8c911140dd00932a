package aws

import (
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"slices"
	"strings"

	"github.com/alphaswarm/controller/core"
)

// The tags every object the plugin creates carries.
const (
	tagTenant     = "alphaswarm:tenant"
	tagEnv        = "alphaswarm:environment"
	tagDeployment = "alphaswarm:deployment"
	tagService    = "alphaswarm:service"
	tagManagedBy  = "alphaswarm:managed-by"
	// tagHash, on a task definition, is a hash of everything it was
	// registered from (with a keyed hash of the secret values), so apply
	// compares without reading the definition back field by field.
	tagHash = "alphaswarm:config-hash"
)

// AWS's length limits of the names the plugin gives.
const (
	maxServiceName = 255 // ECS service names and task definition families
	maxLogGroup    = 512
	maxSecretName  = 512
	maxNamespace   = 1024 // Cloud Map HTTP namespaces
)

// namer names the objects of one deployment. Every name holds the prefix,
// tenant, environment and deployment, readable, and ends with a hash of
// them (and of the service), so that names whose parts join alike (tenant
// a, environment b-c and tenant a-b, environment c) stay apart, and a name
// too long is shortened without losing what tells it apart.
type namer struct {
	prefix string
	ref    core.DeploymentRef
}

// hash8 is 8 hex digits of the SHA-256 of parts joined by NUL.
func hash8(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(sum[:4])
}

// fit keeps name within limit, ending it with suffix: the readable part is
// cut, never the suffix.
func fit(name, suffix string, limit int) string {
	if len(name)+1+len(suffix) > limit {
		name = strings.TrimRight(name[:limit-1-len(suffix)], "-_/.")
	}
	return name + "-" + suffix
}

// clean keeps the characters AWS names allow everywhere ([A-Za-z0-9-]);
// others become '-'. Tenant, environment, deployment and service names are
// already DNS-label-like after core validation; this is belt and braces.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-':
			return r
		}
		return '-'
	}, s)
}

// service is the ECS service name, which is also the task definition
// family, of a topology service.
func (n namer) service(svc string) string {
	base := clean(n.prefix + "-" + n.ref.Tenant + "-" + n.ref.Environment + "-" + n.ref.Name + "-" + svc)
	return fit(base, hash8(n.prefix, n.ref.Tenant, n.ref.Environment, n.ref.Name, svc), maxServiceName)
}

// logGroup is the deployment's CloudWatch Logs group.
func (n namer) logGroup() string {
	base := "/" + clean(n.prefix) + "/" + clean(n.ref.Tenant) + "/" + clean(n.ref.Environment) + "/" + clean(n.ref.Name)
	return fit(base, hash8(n.prefix, n.ref.Tenant, n.ref.Environment, n.ref.Name), maxLogGroup)
}

// namespace is the deployment's Cloud Map HTTP namespace, which Service
// Connect resolves its services' names in.
func (n namer) namespace() string {
	base := clean(n.prefix + "-" + n.ref.Tenant + "-" + n.ref.Environment + "-" + n.ref.Name)
	return fit(base, hash8(n.prefix, n.ref.Tenant, n.ref.Environment, n.ref.Name), maxNamespace)
}

// secretPrefix starts the names of every secret of the deployment, and
// no other deployment's: it ends with the deployment's hash and a '/'.
func (n namer) secretPrefix() string {
	base := clean(n.prefix) + "/" + clean(n.ref.Tenant) + "/" + clean(n.ref.Environment) + "/" + clean(n.ref.Name)
	return fit(base, hash8(n.prefix, n.ref.Tenant, n.ref.Environment, n.ref.Name), 256) + "/"
}

// secret is the Secrets Manager name of the secret reference ref in this
// deployment: under the tenant's path, so a reference names only the
// tenant's own secret.
func (n namer) secret(ref string) string {
	safe := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			return r
		}
		return '-'
	}, ref)
	return fit(n.secretPrefix()+safe, hash8(ref), maxSecretName)
}

// tags are the tags of the deployment's objects; with svc, of that
// service's.
func (n namer) tags(svc string) map[string]string {
	t := map[string]string{
		tagTenant: n.ref.Tenant, tagEnv: n.ref.Environment, tagDeployment: n.ref.Name, tagManagedBy: "alphaswarm",
	}
	if svc != "" {
		t[tagService] = svc
	}
	return t
}

// owns reports whether tags say the object belongs to the deployment.
func (n namer) owns(tags map[string]string) bool {
	return tags[tagTenant] == n.ref.Tenant && tags[tagEnv] == n.ref.Environment && tags[tagDeployment] == n.ref.Name
}

func (b *Backend) namer(ref core.DeploymentRef) namer {
	return namer{prefix: b.cfg.NamePrefix, ref: ref}
}

// maxLabelTags is how many of a service's labels become tags: ECS allows
// 50 tags on a resource, and the plugin's own take 5.
const maxLabelTags = 45

// labelTags returns the labels of a service that can be ECS tags, and
// those that cannot, by key: keys with the reserved prefixes aws: and
// alphaswarm: (a tenant must not claim another deployment's objects), keys
// or values AWS would refuse, and any past maxLabelTags.
func labelTags(labels map[string]string) (tags map[string]string, dropped []string) {
	tags = map[string]string{}
	valid := func(s string) bool {
		return strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 _.:/=+-@") == ""
	}
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		v := labels[k]
		lower := strings.ToLower(k)
		switch {
		case strings.HasPrefix(lower, "aws:"), strings.HasPrefix(lower, "alphaswarm:"),
			k == "" || len(k) > 128 || len(v) > 256 || !valid(k) || !valid(v), len(tags) >= maxLabelTags:
			dropped = append(dropped, k)
		default:
			tags[k] = v
		}
	}
	return tags, dropped
}

// isOurs reports whether a tag key is one the plugin sets itself.
func isOurs(key string) bool { return strings.HasPrefix(key, "alphaswarm:") }
