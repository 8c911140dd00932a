package azure

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/appcontainers/armappcontainers/v3"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/sdk"
)

// envSecretsHash carries the keyed hash of a service's secret values in its
// template, so that a changed value makes a new revision (secrets are
// app-wide in Container Apps and changing them alone does not).
const envSecretsHash = "ALPHASWARM_SECRETS_HASH"

// containerName is the name of the one container of every app.
const containerName = "main"

// desiredApp builds the container app of a service: secret values go into
// the app's secrets only. It also returns the app's spec hash, which
// covers everything but the secret values (they enter through their keyed
// hash).
func (b *Backend) desiredApp(ref core.DeploymentRef, svc *core.ServiceSpec, peers []core.ServiceSpec, values sdk.SecretValues, salt sdk.Salt) (armappcontainers.ContainerApp, string, error) {
	sz, _, ok := sizeFor(svc.Resources.CPU, svc.Resources.MemoryBytes)
	if !ok {
		return armappcontainers.ContainerApp{}, "", fmt.Errorf("size service %s: no Container Apps size has %g CPU and %d bytes of memory", svc.Name, svc.Resources.CPU, svc.Resources.MemoryBytes)
	}
	c := &armappcontainers.Container{
		Name:      ptr(containerName),
		Image:     ptr(svc.Image),
		Command:   ptrs(svc.Command),
		Args:      ptrs(svc.Args),
		Resources: &armappcontainers.ContainerResources{CPU: ptr(sz.CPU), Memory: ptr(sz.Memory())},
		Probes:    probes(svc),
	}
	env := b.peerEnv(ref, svc, peers)
	maps.Copy(env, svc.Env) // the topology's own values win
	for _, k := range slices.Sorted(maps.Keys(env)) {
		c.Env = append(c.Env, &armappcontainers.EnvironmentVar{Name: ptr(k), Value: ptr(env[k])})
	}
	var secrets []*armappcontainers.Secret
	seen := map[string]bool{}
	for _, r := range svc.SecretEnv {
		name := secretName(r.Ref)
		c.Env = append(c.Env, &armappcontainers.EnvironmentVar{Name: ptr(r.Env), SecretRef: ptr(name)})
		if seen[name] {
			continue
		}
		seen[name] = true
		v, ok := values[r.Ref]
		if !ok {
			return armappcontainers.ContainerApp{}, "", fmt.Errorf("apply service %s: the host resolved no value for secret %q", svc.Name, r.Ref)
		}
		secrets = append(secrets, &armappcontainers.Secret{Name: ptr(name), Value: ptr(v)})
	}
	if len(svc.SecretEnv) > 0 {
		c.Env = append(c.Env, &armappcontainers.EnvironmentVar{Name: ptr(envSecretsHash),
			Value: ptr(hex.EncodeToString(salt.HashSecrets(svc, values, sdk.SecretsByRef)[:16]))})
	}
	replicas := int32(svc.Replicas)
	app := armappcontainers.ContainerApp{
		Location: ptr(b.cfg.Location),
		Tags:     tags(ref, svc.Name),
		Properties: &armappcontainers.ContainerAppProperties{
			ManagedEnvironmentID: ptr(b.cl.envID),
			Configuration: &armappcontainers.Configuration{
				ActiveRevisionsMode: ptr(armappcontainers.ActiveRevisionsModeSingle),
				Ingress:             ingress(svc),
				Secrets:             secrets,
			},
			Template: &armappcontainers.Template{
				Containers: []*armappcontainers.Container{c},
				Scale:      &armappcontainers.Scale{MinReplicas: ptr(replicas), MaxReplicas: ptr(max(replicas, 1))},
			},
		},
	}
	hash := specHash(app)
	app.Tags[tagSpec] = &hash
	return app, hash, nil
}

// peerEnvURL and peerEnvHost are the variables that give a service the
// address of one it depends on: DB_URL and DB_HOST for db, USER_DB_URL
// and USER_DB_HOST for user-db.
func peerEnvURL(dep string) string  { return peerEnvName(dep) + "_URL" }
func peerEnvHost(dep string) string { return peerEnvName(dep) + "_HOST" }

func peerEnvName(dep string) string {
	return strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(dep))
}

// peerEnv gives svc the FQDN of each service it depends on that has
// ingress (a port): <app>.internal.<environment's domain>, or
// <app>.<domain> when published, as <DEP>_HOST, and https://<fqdn> as
// <DEP>_URL (the ingress redirects plain HTTP). A secret variable of the
// same name wins, as the topology's env does.
func (b *Backend) peerEnv(ref core.DeploymentRef, svc *core.ServiceSpec, peers []core.ServiceSpec) map[string]string {
	env := map[string]string{}
	if b.cl == nil || b.cl.defaultDomain == "" {
		return env
	}
	for _, dep := range svc.DependsOn {
		i := slices.IndexFunc(peers, func(p core.ServiceSpec) bool { return p.Name == dep })
		if i < 0 || len(peers[i].Ports) == 0 {
			continue
		}
		fqdn := appName(b.cfg.NamePrefix, ref, dep) + ".internal." + b.cl.defaultDomain
		if peers[i].Ports[0].Host != 0 {
			fqdn = appName(b.cfg.NamePrefix, ref, dep) + "." + b.cl.defaultDomain
		}
		for k, v := range map[string]string{peerEnvHost(dep): fqdn, peerEnvURL(dep): "https://" + fqdn} {
			if !slices.ContainsFunc(svc.SecretEnv, func(r core.SecretRef) bool { return r.Env == k }) {
				env[k] = v
			}
		}
	}
	return env
}

// specHash hashes an app without its secret values.
func specHash(app armappcontainers.ContainerApp) string {
	conf := *app.Properties.Configuration
	conf.Secrets = nil
	for _, s := range app.Properties.Configuration.Secrets {
		conf.Secrets = append(conf.Secrets, &armappcontainers.Secret{Name: s.Name})
	}
	props := *app.Properties
	props.Configuration = &conf
	app.Properties = &props
	raw, _ := json.Marshal(app)
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:12])
}

// ingress exposes the service's first port through the app's ingress
// (HTTP, external when the port is published) and the others as extra TCP
// port mappings; a service without ports gets none.
func ingress(svc *core.ServiceSpec) *armappcontainers.Ingress {
	if len(svc.Ports) == 0 {
		return nil
	}
	first := svc.Ports[0]
	in := &armappcontainers.Ingress{
		External:   ptr(first.Host != 0),
		TargetPort: ptr(int32(first.Container)),
		Transport:  ptr(armappcontainers.IngressTransportMethodAuto),
	}
	for _, p := range svc.Ports[1:] {
		exposed := p.Host
		if exposed == 0 {
			exposed = p.Container
		}
		in.AdditionalPortMappings = append(in.AdditionalPortMappings, &armappcontainers.IngressPortMapping{
			External: ptr(p.Host != 0), TargetPort: ptr(int32(p.Container)), ExposedPort: ptr(int32(exposed)),
		})
	}
	return in
}

// The bounds Container Apps puts on probe settings.
const (
	maxProbePeriod   = 240
	maxProbeTimeout  = 240
	maxProbeFailures = 10
	maxProbeDelay    = 60
)

// probes turns an HTTP or TCP health check into a readiness probe; command
// checks have no Container Apps form (Plan reports them dropped).
func probes(svc *core.ServiceSpec) []*armappcontainers.ContainerAppProbe {
	h := svc.Health
	if h == nil || h.Kind == core.HealthCheckCommand {
		return nil
	}
	port := 0
	for _, p := range svc.Ports {
		if p.Name == h.Port {
			port = p.Container
		}
	}
	if port == 0 {
		return nil
	}
	p := &armappcontainers.ContainerAppProbe{
		Type:                ptr(armappcontainers.TypeReadiness),
		PeriodSeconds:       ptr(clampSeconds(h.Interval.Std().Seconds(), 1, maxProbePeriod)),
		TimeoutSeconds:      ptr(clampSeconds(h.Timeout.Std().Seconds(), 1, maxProbeTimeout)),
		InitialDelaySeconds: ptr(clampSeconds(h.StartPeriod.Std().Seconds(), 0, maxProbeDelay)),
		FailureThreshold:    ptr(int32(min(max(h.Retries, 1), maxProbeFailures))),
	}
	if h.Interval == 0 {
		p.PeriodSeconds = ptr(int32(10))
	}
	if h.Timeout == 0 {
		p.TimeoutSeconds = ptr(int32(5))
	}
	if h.Retries == 0 {
		p.FailureThreshold = ptr(int32(3))
	}
	switch h.Kind {
	case core.HealthCheckHTTP:
		path := h.Path
		if path == "" {
			path = "/"
		}
		p.HTTPGet = &armappcontainers.ContainerAppProbeHTTPGet{Port: ptr(int32(port)), Path: ptr(path)}
	case core.HealthCheckTCP:
		p.TCPSocket = &armappcontainers.ContainerAppProbeTCPSocket{Port: ptr(int32(port))}
	default:
		return nil
	}
	return []*armappcontainers.ContainerAppProbe{p}
}

func clampSeconds(s float64, lo, hi int) int32 {
	return int32(min(max(int(s+0.999), lo), hi))
}

func ptrs(ss []string) []*string {
	if len(ss) == 0 {
		return nil
	}
	out := make([]*string, len(ss))
	for i := range ss {
		out[i] = &ss[i]
	}
	return out
}
