package sdk

import pb "github.com/alphaswarm/controller/sdk/internal/backendv1"

func diagnosticsToPB(ds []Diagnostic) []*pb.Diagnostic {
	out := make([]*pb.Diagnostic, len(ds))
	for i, d := range ds {
		out[i] = &pb.Diagnostic{Severity: string(d.Severity), Summary: d.Summary, Detail: d.Detail, Path: d.Path}
	}
	return out
}

func planToPB(p *PlanResponse) *pb.Plan_Response {
	out := &pb.Plan_Response{}
	for _, c := range p.Services {
		pc := &pb.ServiceChange{Service: c.Service, Action: string(c.Action)}
		for _, f := range c.Fields {
			pc.Fields = append(pc.Fields, &pb.FieldChange{Path: f.Path, Before: f.Before, After: f.After})
		}
		out.Services = append(out.Services, pc)
	}
	for _, n := range p.Compatibility {
		out.Compatibility = append(out.Compatibility, &pb.CompatibilityNote{
			Service: n.Service, Field: n.Field, Level: string(n.Level), Detail: n.Detail,
		})
	}
	return out
}
