package kubernetes

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"

	"github.com/alphaswarm/controller/core"
)

// The labels every object apply creates carries: Kubernetes' recommended
// app.kubernetes.io labels, and alphaswarm's, which tie it to its tenant,
// environment and deployment so destroy finds it by label.
const (
	labelName       = "app.kubernetes.io/name"
	labelInstance   = "app.kubernetes.io/instance"
	labelManagedBy  = "app.kubernetes.io/managed-by"
	labelPartOf     = "app.kubernetes.io/part-of"
	labelTenant     = "alphaswarm.io/tenant"
	labelEnv        = "alphaswarm.io/environment"
	labelDeployment = "alphaswarm.io/deployment"
	managedBy       = "alphaswarm"
	// annotationSpec holds the service spec a Deployment was applied from
	// (secret references only), so Plan can compare without the state.
	annotationSpec = "alphaswarm.io/spec"
	// annotationSecrets is a keyed hash of the secret values, so a changed
	// secret rolls the pods.
	annotationSecrets = "alphaswarm.io/secrets-hash"
	// annotationStopped remembers the replica count before a stop.
	annotationStopped = "alphaswarm.io/replicas-before-stop"
	annotationRestart = "kubectl.kubernetes.io/restartedAt"
)

var dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

func isDNSLabel(s string) bool { return len(s) <= 63 && dnsLabel.MatchString(s) }

// target is where one deployment lives in the cluster.
type target struct {
	ref       core.DeploymentRef
	namespace string
	shared    bool // the namespace is configured, shared by deployments
	hashed    bool // names end with the deployment's hash (see target)
}

// target places ref's objects: in a namespace of its own,
// <tenant>-<environment>-<deployment>-<hash>, or in the configured one,
// shared by deployments of every tenant, where each name ends with the
// hash. The hash, of tenant, environment and deployment, keeps apart the
// deployments whose parts join alike (tenant a, environment b-c and tenant
// a-b, environment c). A deployment whose state predates that naming keeps
// its namespace and names.
func (b *Backend) target(ref core.DeploymentRef, st *state) target {
	return b.cfg.target(ref, st)
}

// target is Backend.target for configuration c, which Validate may be
// handed instead of the process's own.
func (c *config) target(ref core.DeploymentRef, st *state) target {
	t := target{ref: ref, hashed: st == nil || st.Naming >= namingHashed}
	switch {
	case c.Namespace != "":
		t.namespace, t.shared = namespaceFor(c.Namespace, ref), true
	case t.hashed:
		t.namespace = shortenTo(ref.Tenant+"-"+ref.Environment+"-"+ref.Name, 63-9) + "-" + t.hash()
	default:
		t.namespace = shorten(ref.Tenant + "-" + ref.Environment + "-" + ref.Name)
	}
	return t
}

// namespaceFor expands an operator's namespace template for ref; a name
// without placeholders is itself.
func namespaceFor(template string, ref core.DeploymentRef) string {
	return strings.NewReplacer("{tenant}", ref.Tenant, "{environment}", ref.Environment, "{deployment}", ref.Name).Replace(template)
}

// hash tells a deployment apart from any other, whatever its parts.
func (t target) hash() string {
	sum := sha256.Sum256([]byte(t.ref.Tenant + "\x00" + t.ref.Environment + "\x00" + t.ref.Name))
	return hex.EncodeToString(sum[:4])
}

// inShared names an object of the deployment in a shared namespace.
func (t target) inShared(name string) string {
	if t.hashed {
		return shortenTo(t.ref.Name+"-"+name, 63-9) + "-" + t.hash()
	}
	return shorten(t.ref.Name + "-" + name)
}

// shorten keeps a name within 63 characters, ending a long one with a hash
// of the whole so distinct names stay distinct.
func shorten(name string) string { return shortenTo(name, 63) }

// shortenTo keeps a name within limit characters in the same way.
func shortenTo(name string, limit int) string {
	if len(name) <= limit {
		return name
	}
	sum := sha256.Sum256([]byte(name))
	return strings.TrimRight(name[:limit-9], "-") + "-" + hex.EncodeToString(sum[:4])
}

// object names a service's Deployment, Service and Secret: the service
// name in a namespace of its own, prefixed by the deployment in a shared one.
func (t target) object(service string) string {
	if t.shared {
		return t.inShared(service)
	}
	return service
}

func (t target) secret(service string) string { return shorten(t.object(service) + "-secrets") }

func (t target) volume(name string) string {
	if t.shared {
		return t.inShared(name)
	}
	return shorten(t.ref.Name + "-" + name)
}

// labels are the labels of every object of the deployment; with service
// set, of that service's objects.
func (t target) labels(service string) map[string]string {
	l := map[string]string{
		labelInstance: t.ref.Name, labelPartOf: t.ref.Name, labelManagedBy: managedBy,
		labelTenant: t.ref.Tenant, labelEnv: t.ref.Environment, labelDeployment: t.ref.Name,
	}
	if service != "" {
		l[labelName] = service
	}
	return l
}

// selector selects the deployment's objects, or one service's.
func (t target) selector(service string) string {
	s := fmt.Sprintf("%s=%s,%s=%s,%s=%s", labelTenant, t.ref.Tenant, labelEnv, t.ref.Environment, labelDeployment, t.ref.Name)
	if service != "" {
		s += "," + labelName + "=" + service
	}
	return s
}

// podSelector is a Deployment's immutable pod selector.
func (t target) podSelector(service string) map[string]string {
	return map[string]string{labelTenant: t.ref.Tenant, labelEnv: t.ref.Environment, labelDeployment: t.ref.Name, labelName: service}
}
