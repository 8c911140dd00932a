package azure

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/alphaswarm/controller/core"
)

// The tags on every app the plugin creates. Destroy and status find a
// deployment's apps by them, and touch only apps whose name is also the one
// appName gives for their tags.
const (
	tagTenant      = "alphaswarm-tenant"
	tagEnvironment = "alphaswarm-environment"
	tagDeployment  = "alphaswarm-deployment"
	tagService     = "alphaswarm-service"
	tagManagedBy   = "alphaswarm-managed-by"
	// tagSpec is a hash of the app as applied (secret values enter it
	// through their keyed hash only), so that apply skips an app that is
	// already as asked.
	tagSpec   = "alphaswarm-spec"
	managedBy = "alphaswarm"
)

// maxAppName is Azure's limit for container app names.
const maxAppName = 32

// appName names a service's container app: the prefix, as much of
// <deployment>-<service> as fits, and a hash of tenant, environment,
// deployment and service, so that deployments whose parts join alike (or
// are cut alike) never share an app. Lower-case letters, digits and single
// hyphens; it starts with the prefix's letter and ends with the hash.
func appName(prefix string, ref core.DeploymentRef, service string) string {
	sum := sha256.Sum256([]byte(ref.Tenant + "\x00" + ref.Environment + "\x00" + ref.Name + "\x00" + service))
	hash := hex.EncodeToString(sum[:4])
	room := maxAppName - len(prefix) - 1 - len(hash) - 1
	body := sanitize(ref.Name + "-" + service)
	if len(body) > room {
		body = strings.TrimRight(body[:room], "-")
	}
	if body == "" {
		return prefix + "-" + hash
	}
	return prefix + "-" + body + "-" + hash
}

// sanitize keeps lower-case letters and digits, turning every run of other
// characters into one hyphen, without hyphens at either end.
func sanitize(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
			continue
		}
		dash = true
	}
	return b.String()
}

// secretName names the app secret that holds the value of a secret
// reference: a hash of the reference, so that nothing of a tenant's
// reference (nor of its value) shapes the name beyond its identity.
func secretName(ref string) string {
	sum := sha256.Sum256([]byte(ref))
	return "s-" + hex.EncodeToString(sum[:10])
}

// tags are the tags of a service's app.
func tags(ref core.DeploymentRef, service string) map[string]*string {
	return map[string]*string{
		tagTenant: &ref.Tenant, tagEnvironment: &ref.Environment, tagDeployment: &ref.Name,
		tagService: &service, tagManagedBy: ptr(managedBy),
	}
}

// owned says whether an app's tags put it in deployment ref, and returns
// its service.
func owned(t map[string]*string, ref core.DeploymentRef) (string, bool) {
	get := func(k string) string {
		if v := t[k]; v != nil {
			return *v
		}
		return ""
	}
	if get(tagManagedBy) != managedBy || get(tagTenant) != ref.Tenant || get(tagEnvironment) != ref.Environment || get(tagDeployment) != ref.Name {
		return "", false
	}
	svc := get(tagService)
	return svc, svc != ""
}

func ptr[T any](v T) *T { return &v }
