package sdk

import (
	"time"

	"github.com/alphaswarm/controller/core"
	pb "github.com/alphaswarm/controller/sdk/internal/backendv1"
)

func refToPB(r core.DeploymentRef) *pb.DeploymentRef {
	return &pb.DeploymentRef{Tenant: r.Tenant, Environment: r.Environment, Name: r.Name}
}

func refFromPB(r *pb.DeploymentRef) core.DeploymentRef {
	return core.DeploymentRef{Tenant: r.GetTenant(), Environment: r.GetEnvironment(), Name: r.GetName()}
}

func targetToPB(r core.DeploymentRef, state []byte) *pb.Target {
	return &pb.Target{Deployment: refToPB(r), State: state}
}

func targetFromPB(t *pb.Target) (core.DeploymentRef, []byte) {
	return refFromPB(t.GetDeployment()), t.GetState()
}

func specToPB(d *core.DeploymentSpec) *pb.DeploymentSpec {
	out := &pb.DeploymentSpec{
		Tenant: d.Tenant, Environment: d.Environment, Name: d.Name,
		Services: make([]*pb.ServiceSpec, len(d.Services)),
	}
	for i := range d.Services {
		out.Services[i] = serviceToPB(&d.Services[i])
	}
	return out
}

func specFromPB(d *pb.DeploymentSpec) core.DeploymentSpec {
	out := core.DeploymentSpec{
		Tenant: d.GetTenant(), Environment: d.GetEnvironment(), Name: d.GetName(),
		Services: make([]core.ServiceSpec, len(d.GetServices())),
	}
	for i, s := range d.GetServices() {
		out.Services[i] = serviceFromPB(s)
	}
	return out
}

func serviceToPB(s *core.ServiceSpec) *pb.ServiceSpec {
	out := &pb.ServiceSpec{
		Name: s.Name, Image: s.Image, Command: s.Command, Args: s.Args, Env: s.Env,
		Replicas:  int32(s.Replicas),
		Resources: &pb.Resources{Cpu: s.Resources.CPU, MemoryBytes: s.Resources.MemoryBytes},
		DependsOn: s.DependsOn, Labels: s.Labels,
	}
	for _, r := range s.SecretEnv {
		out.SecretEnv = append(out.SecretEnv, &pb.SecretRef{Env: r.Env, Ref: r.Ref})
	}
	for _, p := range s.Ports {
		out.Ports = append(out.Ports, &pb.Port{
			Name: p.Name, Container: int32(p.Container), Host: int32(p.Host), Protocol: string(p.Protocol),
		})
	}
	for _, v := range s.Volumes {
		out.Volumes = append(out.Volumes, &pb.VolumeMount{Volume: v.Volume, Path: v.Path, ReadOnly: v.ReadOnly})
	}
	if h := s.Health; h != nil {
		out.Health = &pb.HealthCheck{
			Kind: string(h.Kind), Command: h.Command, Path: h.Path, Port: h.Port,
			IntervalNs: int64(h.Interval), TimeoutNs: int64(h.Timeout),
			StartPeriodNs: int64(h.StartPeriod), Retries: int32(h.Retries),
		}
	}
	return out
}

func serviceFromPB(s *pb.ServiceSpec) core.ServiceSpec {
	out := core.ServiceSpec{
		Name: s.GetName(), Image: s.GetImage(), Command: s.GetCommand(), Args: s.GetArgs(),
		Env: s.GetEnv(), Replicas: int(s.GetReplicas()),
		Resources: core.Resources{CPU: s.GetResources().GetCpu(), MemoryBytes: s.GetResources().GetMemoryBytes()},
		DependsOn: s.GetDependsOn(), Labels: s.GetLabels(),
	}
	for _, r := range s.GetSecretEnv() {
		out.SecretEnv = append(out.SecretEnv, core.SecretRef{Env: r.GetEnv(), Ref: r.GetRef()})
	}
	for _, p := range s.GetPorts() {
		out.Ports = append(out.Ports, core.Port{
			Name: p.GetName(), Container: int(p.GetContainer()), Host: int(p.GetHost()),
			Protocol: core.Protocol(p.GetProtocol()),
		})
	}
	for _, v := range s.GetVolumes() {
		out.Volumes = append(out.Volumes, core.VolumeMount{Volume: v.GetVolume(), Path: v.GetPath(), ReadOnly: v.GetReadOnly()})
	}
	if h := s.GetHealth(); h != nil {
		out.Health = &core.HealthCheck{
			Kind: core.HealthCheckKind(h.GetKind()), Command: h.GetCommand(), Path: h.GetPath(), Port: h.GetPort(),
			Interval: core.Duration(h.GetIntervalNs()), Timeout: core.Duration(h.GetTimeoutNs()),
			StartPeriod: core.Duration(h.GetStartPeriodNs()), Retries: int(h.GetRetries()),
		}
	}
	return out
}

// unixNano encodes a time for the wire; the zero time travels as 0.
func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// fromUnixNano decodes a wire time in UTC; 0 is the zero time.
func fromUnixNano(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}
