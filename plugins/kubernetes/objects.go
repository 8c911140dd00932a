package kubernetes

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
	appsv1ac "k8s.io/client-go/applyconfigurations/apps/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	metav1ac "k8s.io/client-go/applyconfigurations/meta/v1"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/sdk"
)

// volumeSize is what each named volume's claim asks for.
const volumeSize = "1Gi"

// deployment is the Deployment of one service.
func (b *Backend) deployment(t target, svc *core.ServiceSpec, secretsHash string) *appsv1ac.DeploymentApplyConfiguration {
	recorded := *svc
	recorded.Replicas = 0
	spec, _ := json.Marshal(recorded)
	podAnnotations := map[string]string{}
	if secretsHash != "" {
		podAnnotations[annotationSecrets] = secretsHash
	}
	pod := corev1ac.PodSpec().WithContainers(container(t, svc)).
		WithEnableServiceLinks(false).WithAutomountServiceAccountToken(false)
	for _, v := range svc.Volumes {
		pod.WithVolumes(corev1ac.Volume().WithName(v.Volume).
			WithPersistentVolumeClaim(corev1ac.PersistentVolumeClaimVolumeSource().WithClaimName(t.volume(v.Volume))))
	}
	return appsv1ac.Deployment(t.object(svc.Name), t.namespace).
		WithLabels(t.labels(svc.Name)).WithAnnotations(map[string]string{annotationSpec: string(spec)}).
		WithSpec(appsv1ac.DeploymentSpec().
			WithReplicas(int32(svc.Replicas)).
			WithSelector(metav1ac.LabelSelector().WithMatchLabels(t.podSelector(svc.Name))).
			WithProgressDeadlineSeconds(int32(b.cfg.rolloutTimeout.Seconds())).
			WithRevisionHistoryLimit(3).
			WithTemplate(corev1ac.PodTemplateSpec().WithLabels(t.labels(svc.Name)).WithAnnotations(podAnnotations).WithSpec(pod)))
}

func container(t target, svc *core.ServiceSpec) *corev1ac.ContainerApplyConfiguration {
	c := corev1ac.Container().WithName(svc.Name).WithImage(svc.Image).WithCommand(svc.Command...).WithArgs(svc.Args...)
	for _, k := range slices.Sorted(maps.Keys(svc.Env)) {
		c.WithEnv(corev1ac.EnvVar().WithName(k).WithValue(svc.Env[k]))
	}
	for _, s := range svc.SecretEnv {
		c.WithEnv(corev1ac.EnvVar().WithName(s.Env).WithValueFrom(corev1ac.EnvVarSource().
			WithSecretKeyRef(corev1ac.SecretKeySelector().WithName(t.secret(svc.Name)).WithKey(s.Env))))
	}
	for _, p := range svc.Ports {
		port := corev1ac.ContainerPort().WithContainerPort(int32(p.Container)).WithProtocol(protocol(p.Protocol))
		if isPortName(p.Name) {
			port.WithName(p.Name)
		}
		c.WithPorts(port)
	}
	if lim := limits(svc.Resources); len(lim) > 0 {
		c.WithResources(corev1ac.ResourceRequirements().WithLimits(lim).WithRequests(lim))
	}
	if svc.Health != nil {
		c.WithReadinessProbe(probe(svc))
	}
	for _, v := range svc.Volumes {
		c.WithVolumeMounts(corev1ac.VolumeMount().WithName(v.Volume).WithMountPath(v.Path).WithReadOnly(v.ReadOnly))
	}
	return c
}

func protocol(p core.Protocol) corev1.Protocol {
	if p == core.ProtocolUDP {
		return corev1.ProtocolUDP
	}
	return corev1.ProtocolTCP
}

// isPortName reports whether a port name is a valid IANA service name,
// which Kubernetes requires of container port names.
func isPortName(s string) bool {
	if len(s) == 0 || len(s) > 15 || !dnsLabel.MatchString(s) {
		return false
	}
	for _, r := range s {
		if r >= 'a' && r <= 'z' {
			return true
		}
	}
	return false
}

func limits(r core.Resources) corev1.ResourceList {
	l := corev1.ResourceList{}
	if r.CPU > 0 {
		l[corev1.ResourceCPU] = *resource.NewMilliQuantity(int64(r.CPU*1000), resource.DecimalSI)
	}
	if r.MemoryBytes > 0 {
		l[corev1.ResourceMemory] = *resource.NewQuantity(r.MemoryBytes, resource.BinarySI)
	}
	return l
}

// probe turns the health check into a readiness probe.
func probe(svc *core.ServiceSpec) *corev1ac.ProbeApplyConfiguration {
	h := svc.Health
	p := corev1ac.Probe()
	port := intstr.FromInt32(0)
	for _, sp := range svc.Ports {
		if sp.Name == h.Port {
			port = intstr.FromInt32(int32(sp.Container))
		}
	}
	switch h.Kind {
	case core.HealthCheckHTTP:
		p.WithHTTPGet(corev1ac.HTTPGetAction().WithPath(h.Path).WithPort(port))
	case core.HealthCheckTCP:
		p.WithTCPSocket(corev1ac.TCPSocketAction().WithPort(port))
	default:
		p.WithExec(corev1ac.ExecAction().WithCommand(h.Command...))
	}
	if s := int32(time.Duration(h.Interval).Seconds()); s > 0 {
		p.WithPeriodSeconds(s)
	}
	if s := int32(time.Duration(h.Timeout).Seconds()); s > 0 {
		p.WithTimeoutSeconds(s)
	}
	if s := int32(time.Duration(h.StartPeriod).Seconds()); s > 0 {
		p.WithInitialDelaySeconds(s)
	}
	if h.Retries > 0 {
		p.WithFailureThreshold(int32(h.Retries))
	}
	return p
}

// service is the Service of one service with ports: ClusterIP, or a
// LoadBalancer on the host ports when any is set.
func service(t target, svc *core.ServiceSpec) *corev1ac.ServiceApplyConfiguration {
	spec := corev1ac.ServiceSpec().WithSelector(t.podSelector(svc.Name)).WithType(corev1.ServiceTypeClusterIP)
	for _, p := range svc.Ports {
		port := corev1ac.ServicePort().WithName(portName(p)).WithPort(int32(p.Container)).
			WithTargetPort(intstr.FromInt32(int32(p.Container))).WithProtocol(protocol(p.Protocol))
		if p.Host != 0 {
			spec.WithType(corev1.ServiceTypeLoadBalancer)
			port.WithPort(int32(p.Host))
		}
		spec.WithPorts(port)
	}
	return corev1ac.Service(t.object(svc.Name), t.namespace).WithLabels(t.labels(svc.Name)).WithSpec(spec)
}

func portName(p core.Port) string {
	if isPortName(p.Name) {
		return p.Name
	}
	return fmt.Sprintf("port-%d", p.Container)
}

// secret holds the values of a service's secret references, keyed by the
// environment variable that reads them.
func secret(t target, svc *core.ServiceSpec, values sdk.SecretValues) (*corev1ac.SecretApplyConfiguration, error) {
	data := map[string][]byte{}
	for _, s := range svc.SecretEnv {
		v, ok := values[s.Ref]
		if !ok {
			return nil, fmt.Errorf("service %s: secret %q was not resolved by the host", svc.Name, s.Ref)
		}
		data[s.Env] = []byte(v)
	}
	return corev1ac.Secret(t.secret(svc.Name), t.namespace).WithLabels(t.labels(svc.Name)).
		WithType(corev1.SecretTypeOpaque).WithData(data), nil
}

// secretsHash keys a hash of a service's secret values with the
// deployment's salt: it changes when a value changes, and reveals nothing.
func secretsHash(salt sdk.Salt, svc *core.ServiceSpec, values sdk.SecretValues) string {
	if len(svc.SecretEnv) == 0 {
		return ""
	}
	return hex.EncodeToString(salt.HashSecrets(svc, values, sdk.SecretsByEnv))[:32]
}

func claim(t target, volume string) *corev1ac.PersistentVolumeClaimApplyConfiguration {
	return corev1ac.PersistentVolumeClaim(t.volume(volume), t.namespace).WithLabels(t.labels("")).
		WithSpec(corev1ac.PersistentVolumeClaimSpec().WithAccessModes(corev1.ReadWriteOnce).
			WithResources(corev1ac.VolumeResourceRequirements().WithRequests(corev1.ResourceList{corev1.ResourceStorage: resource.MustParse(volumeSize)})))
}
