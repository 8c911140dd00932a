package fakegcp

import (
	"context"
	"strings"
	"time"

	"cloud.google.com/go/monitoring/apiv3/v2/monitoringpb"
	"google.golang.org/genproto/googleapis/api/metric"
	"google.golang.org/genproto/googleapis/api/monitoredres"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Utilization is what the fake Cloud Monitoring reports of every ready
// revision: the 50th percentile of its instances' CPU and memory
// utilisation, as fractions of their limits.
const (
	CPUUtilization    = 0.25
	MemoryUtilization = 0.5
)

type monitoringServer struct {
	monitoringpb.UnimplementedMetricServiceServer
	s *Server
}

// ListTimeSeries answers a filter of metric.type, resource.type and
// resource.labels terms with one aligned point per ready revision of the
// region's Cloud Run services, for Cloud Run's utilisation metrics.
func (m *monitoringServer) ListTimeSeries(_ context.Context, req *monitoringpb.ListTimeSeriesRequest) (*monitoringpb.ListTimeSeriesResponse, error) {
	s := m.s
	terms, err := parseFilter(req.Filter)
	if err != nil {
		return nil, err
	}
	if req.GetInterval().GetEndTime() == nil {
		return nil, status.Error(codes.InvalidArgument, "interval.end_time: required")
	}
	want := map[string]string{}
	for _, t := range terms {
		want[t.key] = t.value
	}
	var value float64
	switch want["metric.type"] {
	case "run.googleapis.com/container/cpu/utilizations":
		value = CPUUtilization
	case "run.googleapis.com/container/memory/utilizations":
		value = MemoryUtilization
	default:
		return &monitoringpb.ListTimeSeriesResponse{}, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	project := strings.TrimPrefix(req.Name, "projects/")
	var out []*monitoringpb.TimeSeries
	for name, sv := range s.services {
		parts := strings.Split(name, "/")
		labels := map[string]string{"project_id": parts[1], "location": parts[3], "service_name": parts[5], "revision_name": sv.svc.LatestReadyRevision}
		match := parts[1] == project && sv.svc.LatestReadyRevision != "" && want["resource.type"] == "cloud_run_revision"
		for k, v := range want {
			if l, ok := strings.CutPrefix(k, "resource.labels."); ok {
				match = match && labels[l] == v
			}
		}
		if !match {
			continue
		}
		out = append(out, &monitoringpb.TimeSeries{
			Metric:     &metric.Metric{Type: want["metric.type"]},
			Resource:   &monitoredres.MonitoredResource{Type: "cloud_run_revision", Labels: labels},
			MetricKind: metric.MetricDescriptor_GAUGE, ValueType: metric.MetricDescriptor_DOUBLE,
			Points: []*monitoringpb.Point{{
				Interval: &monitoringpb.TimeInterval{EndTime: timestamppb.New(req.Interval.EndTime.AsTime().Truncate(time.Minute))},
				Value:    &monitoringpb.TypedValue{Value: &monitoringpb.TypedValue_DoubleValue{DoubleValue: value}},
			}},
		})
	}
	return &monitoringpb.ListTimeSeriesResponse{TimeSeries: out}, nil
}
