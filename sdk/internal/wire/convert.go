package wire

import (
	"time"

	"github.com/alphaswarm/controller/core"
	pb "github.com/alphaswarm/controller/sdk/internal/backendv1"
)

// RefToPB encodes a deployment reference.
func RefToPB(r core.DeploymentRef) *pb.DeploymentRef {
	return &pb.DeploymentRef{Tenant: r.Tenant, Environment: r.Environment, Name: r.Name}
}

// RefFromPB decodes a deployment reference.
func RefFromPB(r *pb.DeploymentRef) core.DeploymentRef {
	return core.DeploymentRef{Tenant: r.GetTenant(), Environment: r.GetEnvironment(), Name: r.GetName()}
}

// TargetToPB encodes the deployment and state blob an operation acts on.
func TargetToPB(r core.DeploymentRef, state []byte) *pb.Target {
	return &pb.Target{Deployment: RefToPB(r), State: state}
}

// TargetFromPB decodes what TargetToPB encodes.
func TargetFromPB(t *pb.Target) (core.DeploymentRef, []byte) {
	return RefFromPB(t.GetDeployment()), t.GetState()
}

// SpecToPB encodes a deployment spec.
func SpecToPB(d *core.DeploymentSpec) *pb.DeploymentSpec {
	out := &pb.DeploymentSpec{
		Tenant: d.Tenant, Environment: d.Environment, Name: d.Name,
		Services: make([]*pb.ServiceSpec, len(d.Services)),
	}
	for i := range d.Services {
		out.Services[i] = serviceToPB(&d.Services[i])
	}
	return out
}

// SpecFromPB decodes a deployment spec.
func SpecFromPB(d *pb.DeploymentSpec) core.DeploymentSpec {
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

// UnixNano encodes a time for the wire; the zero time travels as 0.
func UnixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// FromUnixNano decodes a wire time in UTC; 0 is the zero time.
func FromUnixNano(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// healthFromPB maps a wire health to core, treating values this SDK does not
// know (from a newer plugin) as unknown.
func healthFromPB(s string) core.Health {
	if h := core.Health(s); h.Valid() {
		return h
	}
	return core.HealthUnknown
}

// StatusToPB encodes a deployment status.
func StatusToPB(s *core.DeploymentStatus) *pb.DeploymentStatus {
	out := &pb.DeploymentStatus{
		Deployment: RefToPB(s.Deployment), Health: string(s.Health), Reasons: s.Reasons,
		ObservedAtUnixNano: UnixNano(s.ObservedAt),
	}
	for _, svc := range s.Services {
		ps := &pb.ServiceStatus{
			Name: svc.Name, Health: string(svc.Health), Reasons: svc.Reasons,
			Desired: int32(svc.Desired), Ready: int32(svc.Ready),
		}
		for _, r := range svc.Replicas {
			pr := &pb.ReplicaStatus{
				Id: r.ID, Health: string(r.Health), Reasons: r.Reasons,
				StartedAtUnixNano: UnixNano(r.StartedAt), Restarts: int32(r.Restarts),
			}
			if r.ExitCode != nil {
				code := int32(*r.ExitCode)
				pr.ExitCode = &code
			}
			ps.Replicas = append(ps.Replicas, pr)
		}
		out.Services = append(out.Services, ps)
	}
	return out
}

// StatusFromPB decodes a deployment status; a health value this side does
// not know (from a newer peer) reads as unknown.
func StatusFromPB(s *pb.DeploymentStatus) core.DeploymentStatus {
	out := core.DeploymentStatus{
		Deployment: RefFromPB(s.GetDeployment()), Health: healthFromPB(s.GetHealth()),
		Reasons: s.GetReasons(), ObservedAt: FromUnixNano(s.GetObservedAtUnixNano()),
		Services: make([]core.ServiceStatus, 0, len(s.GetServices())),
	}
	for _, ps := range s.GetServices() {
		svc := core.ServiceStatus{
			Name: ps.GetName(), Health: healthFromPB(ps.GetHealth()), Reasons: ps.GetReasons(),
			Desired: int(ps.GetDesired()), Ready: int(ps.GetReady()),
		}
		for _, pr := range ps.GetReplicas() {
			r := core.ReplicaStatus{
				ID: pr.GetId(), Health: healthFromPB(pr.GetHealth()), Reasons: pr.GetReasons(),
				StartedAt: FromUnixNano(pr.GetStartedAtUnixNano()), Restarts: int(pr.GetRestarts()),
			}
			if pr.ExitCode != nil {
				code := int(pr.GetExitCode())
				r.ExitCode = &code
			}
			svc.Replicas = append(svc.Replicas, r)
		}
		out.Services = append(out.Services, svc)
	}
	return out
}

// EventToPB encodes a progress event.
func EventToPB(e core.Event) *pb.Event {
	return &pb.Event{
		TimeUnixNano: UnixNano(e.Time), Level: string(e.Level),
		Service: e.Service, Replica: e.Replica, Message: e.Message,
	}
}

// EventFromPB decodes a progress event.
func EventFromPB(e *pb.Event) core.Event {
	return core.Event{
		Time: FromUnixNano(e.GetTimeUnixNano()), Level: core.EventLevel(e.GetLevel()),
		Service: e.GetService(), Replica: e.GetReplica(), Message: e.GetMessage(),
	}
}

// MetricsToPB encodes metric points.
func MetricsToPB(points []core.MetricPoint) []*pb.MetricPoint {
	out := make([]*pb.MetricPoint, len(points))
	for i, p := range points {
		out[i] = &pb.MetricPoint{
			Service: p.Service, Replica: p.Replica, Name: p.Name, Unit: p.Unit,
			Value: p.Value, TimeUnixNano: UnixNano(p.Time),
		}
	}
	return out
}

// MetricsFromPB decodes metric points.
func MetricsFromPB(points []*pb.MetricPoint) []core.MetricPoint {
	out := make([]core.MetricPoint, len(points))
	for i, p := range points {
		out[i] = core.MetricPoint{
			Service: p.GetService(), Replica: p.GetReplica(), Name: p.GetName(), Unit: p.GetUnit(),
			Value: p.GetValue(), Time: FromUnixNano(p.GetTimeUnixNano()),
		}
	}
	return out
}

// NodesToPB encodes node health.
func NodesToPB(nodes []core.NodeHealth) []*pb.NodeHealthInfo {
	out := make([]*pb.NodeHealthInfo, len(nodes))
	for i, n := range nodes {
		out[i] = &pb.NodeHealthInfo{
			Name: n.Name, Health: string(n.Health), Reachable: n.Reachable, Reasons: n.Reasons,
			Version: n.Version, Cpus: n.CPUs, MemoryBytes: n.MemoryBytes, DiskBytes: n.DiskBytes,
			Labels: n.Labels,
		}
	}
	return out
}

// NodesFromPB decodes node health; unknown health values read as unknown.
func NodesFromPB(nodes []*pb.NodeHealthInfo) []core.NodeHealth {
	out := make([]core.NodeHealth, len(nodes))
	for i, n := range nodes {
		out[i] = core.NodeHealth{
			Name: n.GetName(), Health: healthFromPB(n.GetHealth()), Reachable: n.GetReachable(),
			Reasons: n.GetReasons(), Version: n.GetVersion(), CPUs: n.GetCpus(),
			MemoryBytes: n.GetMemoryBytes(), DiskBytes: n.GetDiskBytes(), Labels: n.GetLabels(),
		}
	}
	return out
}
