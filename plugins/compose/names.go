package compose

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"

	"github.com/docker/docker/api/types/filters"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/sdk"
)

// The labels every object the plugin creates carries. The compose ones make
// "docker compose -p <project> ps" see the deployment; the alphaswarm ones
// tie it back to its tenant and deployment.
const (
	labelProject    = "com.docker.compose.project"
	labelService    = "com.docker.compose.service"
	labelNumber     = "com.docker.compose.container-number"
	labelOneoff     = "com.docker.compose.oneoff"
	labelConfigHash = "com.docker.compose.config-hash"
	labelNetwork    = "com.docker.compose.network"
	labelVolume     = "com.docker.compose.volume"
	labelManagedBy  = "io.alphaswarm.managed-by"
	labelTenant     = "io.alphaswarm.tenant"
	labelEnv        = "io.alphaswarm.environment"
	labelDeployment = "io.alphaswarm.deployment"
	// labelSpec holds the service spec the container was made from (secret
	// references only, replica count zeroed), so that Plan can compare a
	// topology with what the engine runs, without the host's state.
	labelSpec = "io.alphaswarm.spec"
)

var dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// project names one deployment's compose project.
type project struct {
	name string
	ref  core.DeploymentRef
}

// project is the compose project of ref: the one its state names, for a
// deployment applied before, else <prefix>_<tenant>_<environment>_<name>.
// The parts are DNS labels, which hold no '_', so no two deployments share
// a project, as they could when '-' joined them (tenant a, environment b-c
// and tenant a-b, environment c). Whatever the name, the project's objects
// are found by the deployment's labels too (filter).
func (b *Backend) project(ref core.DeploymentRef, st *state) project {
	if st != nil && st.Project != "" {
		return project{name: st.Project, ref: ref}
	}
	return project{name: fmt.Sprintf("%s_%s_%s_%s", b.cfg.ProjectPrefix, ref.Tenant, ref.Environment, ref.Name), ref: ref}
}

// legacyProject is the name projects had before '_' joined their parts,
// which deployments applied then keep.
func (b *Backend) legacyProject(ref core.DeploymentRef) string {
	return fmt.Sprintf("%s-%s-%s-%s", b.cfg.ProjectPrefix, ref.Tenant, ref.Environment, ref.Name)
}

func (p project) network() string           { return p.name + "_default" }
func (p project) volume(name string) string { return p.name + "_" + name }
func (p project) container(svc string, n int) string {
	return p.name + "-" + svc + "-" + strconv.Itoa(n)
}

// replica names replica n of svc before the engine has listed it; the
// engine accepts the container name wherever it takes an id.
func (p project) replica(svc string, n int) replica {
	name := p.container(svc, n)
	return replica{id: name, name: name, service: svc, number: n, state: "running"}
}

// labels are the labels of any object of the project.
func (p project) labels() map[string]string {
	return map[string]string{
		labelProject: p.name, labelManagedBy: "alphaswarm",
		labelTenant: p.ref.Tenant, labelEnv: p.ref.Environment, labelDeployment: p.ref.Name,
	}
}

// filter selects the project's objects, and only those labelled with its
// deployment's tenant, environment and name; extra narrows it, as
// "key=value".
func (p project) filter(extra ...string) filters.Args {
	args := filters.NewArgs(
		filters.Arg("label", labelProject+"="+p.name),
		filters.Arg("label", labelTenant+"="+p.ref.Tenant),
		filters.Arg("label", labelEnv+"="+p.ref.Environment),
		filters.Arg("label", labelDeployment+"="+p.ref.Name),
	)
	for _, e := range extra {
		args.Add("label", e)
	}
	return args
}

// replicaID is the short name of a replica in statuses, logs and exec:
// <service>-<number>.
func replicaID(svc string, n int) string { return svc + "-" + strconv.Itoa(n) }

// configHash fingerprints everything about a service that needs new
// containers when it changes: the spec without its replica count, the
// network, and, for a service with secrets, their values, mixed in through
// an HMAC keyed by the deployment's salt so that the label reveals nothing
// about them. A service without secrets hashes the same whatever the salt,
// so a deployment whose state was lost (the host stopped before recording
// it) is adopted without replacing its replicas.
func configHash(p project, svc *core.ServiceSpec, secrets sdk.SecretValues, salt sdk.Salt) string {
	if len(svc.SecretEnv) == 0 {
		return specHash(p, svc, nil)
	}
	return saltedConfigHash(p, svc, secrets, salt)
}

// saltedConfigHash is the hash with the secrets' HMAC mixed in; before
// configHash left it out for services without secrets, every service's
// containers carried it, so it still matches theirs.
func saltedConfigHash(p project, svc *core.ServiceSpec, secrets sdk.SecretValues, salt sdk.Salt) string {
	return specHash(p, svc, salt.HashSecrets(svc, secrets, sdk.SecretsByRef))
}

func specHash(p project, svc *core.ServiceSpec, secretMAC []byte) string {
	spec := *svc
	spec.Replicas = 0
	raw, _ := json.Marshal(struct {
		Spec    core.ServiceSpec `json:"spec"`
		Network string           `json:"network"`
	}{spec, p.network()})
	h := sha256.New()
	h.Write(raw)
	h.Write(secretMAC)
	return hex.EncodeToString(h.Sum(nil))
}

// currentHash reports whether a replica's hash says it runs svc as
// configured now.
func currentHash(replicaHash string, p project, svc *core.ServiceSpec, secrets sdk.SecretValues, salt sdk.Salt) bool {
	return replicaHash == configHash(p, svc, secrets, salt) ||
		(len(svc.SecretEnv) == 0 && replicaHash == saltedConfigHash(p, svc, secrets, salt))
}
