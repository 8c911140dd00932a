package gcp

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"cloud.google.com/go/run/apiv2/runpb"
	"google.golang.org/protobuf/proto"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/sdk"
)

// dependencyEnv is the variable that gives a service the URL of one it
// depends on: API_URL for api, USER_DB_URL for user-db.
func dependencyEnv(dep string) string {
	return strings.ToUpper(strings.ReplaceAll(dep, "-", "_")) + "_URL"
}

// reservedEnv are the variables Cloud Run sets itself and refuses in a
// container's env.
var reservedEnv = []string{"PORT", "K_SERVICE", "K_REVISION", "K_CONFIGURATION"}

var (
	userLabelKey = regexp.MustCompile(`^[a-z][-_a-z0-9]{0,62}$`)
	userLabelVal = regexp.MustCompile(`^[-_a-z0-9]{0,63}$`)
)

// compatibility reports what Cloud Run cannot honour in svc as written:
// errors it cannot run at all, and approximations. Validate, Plan and
// Apply read it, so they agree.
func compatibility(svc *core.ServiceSpec) []sdk.CompatibilityNote {
	var notes []sdk.CompatibilityNote
	add := func(field string, level sdk.CompatLevel, format string, args ...any) {
		notes = append(notes, sdk.CompatibilityNote{Service: svc.Name, Field: field, Level: level, Detail: fmt.Sprintf(format, args...)})
	}
	sz := sizeOf(svc.Resources)
	if sz.Err != "" {
		add("resources", sdk.CompatError, "%s", sz.Err)
	}
	for _, n := range sz.Notes {
		add("resources", sdk.CompatApproximated, "%s", n)
	}
	switch {
	case len(svc.Ports) > 1:
		add("port", sdk.CompatError, "%d ports: a Cloud Run service serves one port", len(svc.Ports))
	case len(svc.Ports) == 0:
		add("port", sdk.CompatApproximated, "no port: a Cloud Run service's container must still listen on $PORT (8080), which its default startup probe checks")
	}
	for _, p := range svc.Ports {
		switch {
		case p.Protocol == core.ProtocolUDP:
			add("port."+p.Name+".protocol", sdk.CompatError, "udp: Cloud Run serves HTTP only")
		case len(svc.Ports) == 1:
			add("port."+p.Name, sdk.CompatApproximated, "served as HTTPS at the service's URL (port 443), forwarded to container port %d as HTTP/1; a TCP-only protocol that is not HTTP is not supported", p.Container)
		}
		if p.Host != 0 {
			add("port."+p.Name+".host", sdk.CompatDropped, "Cloud Run publishes no host port: the service's URL serves it")
		}
	}
	for _, name := range reservedEnv {
		_, inEnv := svc.Env[name]
		if inEnv || slices.ContainsFunc(svc.SecretEnv, func(r core.SecretRef) bool { return r.Env == name }) {
			add("env", sdk.CompatError, "$%s is set by Cloud Run itself (it reserves PORT, K_SERVICE, K_REVISION and K_CONFIGURATION)", name)
		}
	}
	for _, dep := range svc.DependsOn {
		if name := dependencyEnv(dep); slices.Contains(reservedEnv, name) {
			add("depends_on", sdk.CompatError, "the URL of %s would be $%s, which Cloud Run reserves: rename the service", dep, name)
		}
	}
	if len(svc.Volumes) > 0 {
		add("volume", sdk.CompatError, "named volumes are not supported on Cloud Run yet")
	}
	_, _, probeNotes := probes(svc)
	for _, n := range probeNotes {
		add("health", sdk.CompatApproximated, "%s", n)
	}
	for _, dep := range svc.DependsOn {
		add("depends_on", sdk.CompatApproximated, "%s is reached at its URL, given in $%s (Cloud Run services do not resolve each other's names); apply starts it first", dep, dependencyEnv(dep))
	}
	for _, k := range slices.Sorted(maps.Keys(svc.Labels)) {
		if !userLabelKey.MatchString(k) || !userLabelVal.MatchString(svc.Labels[k]) || strings.HasPrefix(k, "alphaswarm") || k == labelManagedBy {
			add("labels."+k, sdk.CompatDropped, "not a valid Google Cloud label (lower-case letters, digits, '-' and '_', at most 63), or one of alphaswarm's")
		}
	}
	return notes
}

// errorsOf returns the error notes as one error, or nil.
func errorsOf(notes []sdk.CompatibilityNote) error {
	var msgs []string
	for _, n := range notes {
		if n.Level == sdk.CompatError {
			msgs = append(msgs, fmt.Sprintf("service %s, %s: %s", n.Service, n.Field, n.Detail))
		}
	}
	if len(msgs) == 0 {
		return nil
	}
	return fmt.Errorf("cannot run on Cloud Run: %s", strings.Join(msgs, "; "))
}

// desired is the Cloud Run service for svc. secretVersions maps each
// secret reference to the version its env pins; urls maps each
// dependency to its URL; invoker is the account apply grants
// roles/run.invoker on it ("" none), recorded in annotationInvoker;
// runAs the service account it runs as (runtimeAccount). Its
// annotations carry the spec and a hash of the rest, which apply compares
// to leave an unchanged service alone.
func (b *Backend) desired(t target, svc *core.ServiceSpec, replicas int, secretVersions, urls map[string]string, runAs, invoker string) (*runpb.Service, error) {
	sz := sizeOf(svc.Resources)
	c := &runpb.Container{
		Name: "main", Image: svc.Image, Command: svc.Command, Args: svc.Args,
		Resources: &runpb.ResourceRequirements{Limits: sz.limits(), CpuIdle: false},
	}
	if len(svc.Ports) == 1 {
		c.Ports = []*runpb.ContainerPort{{Name: "http1", ContainerPort: int32(svc.Ports[0].Container)}}
	}
	c.StartupProbe, c.LivenessProbe, _ = probes(svc)
	env := map[string]*runpb.EnvVar{}
	for _, dep := range svc.DependsOn {
		name := dependencyEnv(dep)
		env[name] = &runpb.EnvVar{Name: name, Values: &runpb.EnvVar_Value{Value: urls[dep]}}
	}
	for k, v := range svc.Env { // the service's own variables win
		env[k] = &runpb.EnvVar{Name: k, Values: &runpb.EnvVar_Value{Value: v}}
	}
	for _, r := range svc.SecretEnv {
		version, ok := secretVersions[r.Ref]
		if !ok {
			return nil, fmt.Errorf("service %s: secret %q has no value", svc.Name, r.Ref)
		}
		env[r.Env] = &runpb.EnvVar{Name: r.Env, Values: &runpb.EnvVar_ValueSource{ValueSource: &runpb.EnvVarSource{
			SecretKeyRef: &runpb.SecretKeySelector{Secret: t.secretName(r.Ref), Version: version},
		}}}
	}
	for _, k := range slices.Sorted(maps.Keys(env)) {
		c.Env = append(c.Env, env[k])
	}
	labels := t.labels(svc.Name)
	for k, v := range svc.Labels {
		if _, ours := labels[k]; !ours && userLabelKey.MatchString(k) && userLabelVal.MatchString(v) && !strings.HasPrefix(k, "alphaswarm") {
			labels[k] = v
		}
	}
	count := int32(replicas)
	out := &runpb.Service{
		Name:    t.serviceName(svc.Name),
		Labels:  labels,
		Ingress: b.cfg.ingress,
		Template: &runpb.RevisionTemplate{
			Labels:         t.labels(svc.Name),
			ServiceAccount: runAs,
			Containers:     []*runpb.Container{c},
		},
		Scaling:     &runpb.ServiceScaling{ScalingMode: runpb.ServiceScaling_MANUAL, ManualInstanceCount: &count},
		Annotations: map[string]string{},
	}
	if invoker != "" {
		out.Annotations[annotationInvoker] = invoker
	}
	spec, err := json.Marshal(svc)
	if err != nil {
		return nil, fmt.Errorf("encode spec of service %s: %w", svc.Name, err)
	}
	wire, err := proto.MarshalOptions{Deterministic: true}.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("encode Cloud Run service %s: %w", svc.Name, err)
	}
	sum := sha256.Sum256(wire)
	out.Annotations[annotationSpec], out.Annotations[annotationHash] = string(spec), hex.EncodeToString(sum[:12])
	return out, nil
}
