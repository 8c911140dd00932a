package gcp

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/alphaswarm/controller/core"
)

// The labels of everything apply creates. Tenant, environment, deployment
// and service names are DNS labels of at most 63 characters (core checks
// them), which are valid label values as they are.
const (
	labelManagedBy  = "managed-by"
	labelTenant     = "alphaswarm-tenant"
	labelEnv        = "alphaswarm-environment"
	labelDeployment = "alphaswarm-deployment"
	labelService    = "alphaswarm-service"
	managedBy       = "alphaswarm"
	// annotationSpec holds the service spec a Cloud Run service was applied
	// from (secret references only), so Plan compares without the state.
	annotationSpec = "alphaswarm.io/spec"
	// annotationHash is a hash of the Cloud Run service apply asked for,
	// so an apply of the same spec changes nothing.
	annotationHash = "alphaswarm.io/spec-hash"
	// annotationValue is, on a secret, the keyed hash of the value its
	// newest version holds, and that version's number.
	annotationValue   = "alphaswarm.io/value-hash"
	annotationVersion = "alphaswarm.io/version"
	// annotationAccessor is the service account the secret's policy lets
	// read it.
	annotationAccessor = "alphaswarm.io/accessor"
)

// maxServiceID is Cloud Run's limit on a service's name.
const maxServiceID = 49

// target is where one deployment lives: the project and region of the
// backend, and the names derived from the deployment's reference.
type target struct {
	ref    core.DeploymentRef
	prefix string
	parent string // projects/P/locations/R
	secret string // projects/P
}

func (b *Backend) target(ref core.DeploymentRef) target {
	return target{ref: ref, prefix: b.cfg.NamePrefix, parent: b.cfg.parent(), secret: "projects/" + b.cfg.Project}
}

// hash tells apart names whose parts join alike (tenant a, environment b-c
// and tenant a-b, environment c), and keeps shortened names distinct.
func hash(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(sum[:4])
}

// fit joins prefix, tenant, environment, deployment and the rest with
// '-' and keeps the result within limit characters, ending with the
// 8-character hash of tenant, environment, deployment and hashed, so that
// it is unique whatever was cut.
func fit(limit int, prefix string, ref core.DeploymentRef, rest []string, hashed ...string) string {
	parts := append([]string{prefix, ref.Tenant, ref.Environment, ref.Name}, rest...)
	h := hash(append([]string{ref.Tenant, ref.Environment, ref.Name}, hashed...)...)
	name := strings.Join(parts, "-")
	if len(name) > limit-len(h)-1 {
		name = strings.TrimRight(name[:limit-len(h)-1], "-")
	}
	return name + "-" + h
}

// serviceID is the Cloud Run service of one service of the deployment:
// starting with the prefix's letter, at most 49 characters.
func (t target) serviceID(service string) string {
	return fit(maxServiceID, t.prefix, t.ref, []string{service}, service)
}

// serviceName is the service's full resource name.
func (t target) serviceName(service string) string {
	return t.parent + "/services/" + t.serviceID(service)
}

// secretID is the Secret Manager secret of one secret reference of the
// deployment. A reference is the tenant's own name (letters, digits, '/',
// '-', '_', '.'); what is not allowed in a secret ID becomes '_', and the
// hash keeps references that read alike apart.
func (t target) secretID(ref string) string {
	clean := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			return r
		}
		return '_'
	}, ref)
	return fit(255, t.prefix, t.ref, []string{clean}, "secret", ref)
}

func (t target) secretName(ref string) string { return t.secret + "/secrets/" + t.secretID(ref) }

// labels are the labels of the deployment's objects; with service set, of
// that service's.
func (t target) labels(service string) map[string]string {
	l := map[string]string{
		labelManagedBy: managedBy, labelTenant: t.ref.Tenant, labelEnv: t.ref.Environment, labelDeployment: t.ref.Name,
	}
	if service != "" {
		l[labelService] = service
	}
	return l
}

// owns says whether labels are those of the deployment's objects.
func (t target) owns(labels map[string]string) bool {
	return labels[labelManagedBy] == managedBy && labels[labelTenant] == t.ref.Tenant &&
		labels[labelEnv] == t.ref.Environment && labels[labelDeployment] == t.ref.Name
}

// secretFilter selects the deployment's secrets in ListSecrets.
func (t target) secretFilter() string {
	return "labels." + labelManagedBy + "=" + managedBy + " AND labels." + labelTenant + "=" + t.ref.Tenant +
		" AND labels." + labelEnv + "=" + t.ref.Environment + " AND labels." + labelDeployment + "=" + t.ref.Name
}
