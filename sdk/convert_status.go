package sdk

import (
	"github.com/alphaswarm/controller/core"
	pb "github.com/alphaswarm/controller/sdk/internal/backendv1"
)

// healthFromPB maps a wire health to core, treating values this SDK does not
// know (from a newer plugin) as unknown.
func healthFromPB(s string) core.Health {
	if h := core.Health(s); h.Valid() {
		return h
	}
	return core.HealthUnknown
}

func statusToPB(s *core.DeploymentStatus) *pb.DeploymentStatus {
	out := &pb.DeploymentStatus{
		Deployment: refToPB(s.Deployment), Health: string(s.Health), Reasons: s.Reasons,
		ObservedAtUnixNano: unixNano(s.ObservedAt),
	}
	for _, svc := range s.Services {
		ps := &pb.ServiceStatus{
			Name: svc.Name, Health: string(svc.Health), Reasons: svc.Reasons,
			Desired: int32(svc.Desired), Ready: int32(svc.Ready),
		}
		for _, r := range svc.Replicas {
			pr := &pb.ReplicaStatus{
				Id: r.ID, Health: string(r.Health), Reasons: r.Reasons,
				StartedAtUnixNano: unixNano(r.StartedAt), Restarts: int32(r.Restarts),
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

func statusFromPB(s *pb.DeploymentStatus) core.DeploymentStatus {
	out := core.DeploymentStatus{
		Deployment: refFromPB(s.GetDeployment()), Health: healthFromPB(s.GetHealth()),
		Reasons: s.GetReasons(), ObservedAt: fromUnixNano(s.GetObservedAtUnixNano()),
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
				StartedAt: fromUnixNano(pr.GetStartedAtUnixNano()), Restarts: int(pr.GetRestarts()),
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

func eventToPB(e core.Event) *pb.Event {
	return &pb.Event{
		TimeUnixNano: unixNano(e.Time), Level: string(e.Level),
		Service: e.Service, Replica: e.Replica, Message: e.Message,
	}
}

func eventFromPB(e *pb.Event) core.Event {
	return core.Event{
		Time: fromUnixNano(e.GetTimeUnixNano()), Level: core.EventLevel(e.GetLevel()),
		Service: e.GetService(), Replica: e.GetReplica(), Message: e.GetMessage(),
	}
}

func metricsToPB(points []core.MetricPoint) []*pb.MetricPoint {
	out := make([]*pb.MetricPoint, len(points))
	for i, p := range points {
		out[i] = &pb.MetricPoint{
			Service: p.Service, Replica: p.Replica, Name: p.Name, Unit: p.Unit,
			Value: p.Value, TimeUnixNano: unixNano(p.Time),
		}
	}
	return out
}

func metricsFromPB(points []*pb.MetricPoint) []core.MetricPoint {
	out := make([]core.MetricPoint, len(points))
	for i, p := range points {
		out[i] = core.MetricPoint{
			Service: p.GetService(), Replica: p.GetReplica(), Name: p.GetName(), Unit: p.GetUnit(),
			Value: p.GetValue(), Time: fromUnixNano(p.GetTimeUnixNano()),
		}
	}
	return out
}

func nodesToPB(nodes []core.NodeHealth) []*pb.NodeHealthInfo {
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

func nodesFromPB(nodes []*pb.NodeHealthInfo) []core.NodeHealth {
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
