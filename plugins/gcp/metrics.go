package gcp

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"cloud.google.com/go/monitoring/apiv3/v2/monitoringpb"
	"cloud.google.com/go/run/apiv2/runpb"
	"google.golang.org/api/iterator"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/sdk"
)

var _ sdk.MetricsReader = (*Backend)(nil)

// metricsWindow is how far back Metrics looks for the latest aligned point:
// Cloud Run writes its metrics every minute, a few minutes late.
const metricsWindow = 5 * time.Minute

// Metrics reports CPU and memory use from Cloud Monitoring: the median of
// the serving revision's container CPU and memory utilisation over the
// last minute (run.googleapis.com/container/{cpu,memory}/utilizations),
// times the container's limits. Cloud Run reports no usage per instance,
// so each replica (instance slot) gets its revision's median.
func (b *Backend) Metrics(ctx context.Context, req *sdk.MetricsRequest) (*sdk.MetricsResponse, error) {
	_, t, services, err := b.operation(ctx, req.Deployment, req.State, req.Service)
	if err != nil {
		return nil, err
	}
	resp := &sdk.MetricsResponse{}
	for _, name := range slices.Sorted(maps.Keys(services)) {
		s := services[name]
		if s.LatestReadyRevision == "" || s.Reconciling {
			continue
		}
		cpus, memBytes := limitsOf(s)
		cpu, cpuAt, err := b.utilization(ctx, t.serviceID(name), s.LatestReadyRevision, "cpu")
		if err != nil {
			return nil, err
		}
		mem, memAt, err := b.utilization(ctx, t.serviceID(name), s.LatestReadyRevision, "memory")
		if err != nil {
			return nil, err
		}
		ss := serviceStatus(name, s, false)
		for _, r := range ss.Replicas {
			if cpuAt != (time.Time{}) {
				resp.Points = append(resp.Points, core.MetricPoint{Service: name, Replica: r.ID, Name: core.MetricCPUCores, Unit: "cores", Value: cpu * cpus, Time: cpuAt})
			}
			if memAt != (time.Time{}) {
				resp.Points = append(resp.Points, core.MetricPoint{Service: name, Replica: r.ID, Name: core.MetricMemoryBytes, Unit: "bytes", Value: mem * memBytes, Time: memAt})
			}
		}
	}
	return resp, nil
}

// utilization reads the latest median utilisation of a revision, and its
// time; a zero time when Cloud Monitoring has no point yet.
func (b *Backend) utilization(ctx context.Context, serviceID, revision, resource string) (float64, time.Time, error) {
	now := time.Now()
	it := b.monitoring.ListTimeSeries(ctx, &monitoringpb.ListTimeSeriesRequest{
		Name: "projects/" + b.cfg.Project,
		Filter: fmt.Sprintf(`metric.type="run.googleapis.com/container/%s/utilizations" AND resource.type="cloud_run_revision" AND resource.labels.service_name=%q AND resource.labels.location=%q AND resource.labels.revision_name=%q`,
			resource, serviceID, b.cfg.Region, short(revision)),
		Interval:    &monitoringpb.TimeInterval{StartTime: timestamppb.New(now.Add(-metricsWindow)), EndTime: timestamppb.New(now)},
		Aggregation: &monitoringpb.Aggregation{AlignmentPeriod: durationpb.New(time.Minute), PerSeriesAligner: monitoringpb.Aggregation_ALIGN_PERCENTILE_50},
	})
	var value float64
	var at time.Time
	for {
		ts, err := it.Next()
		if err == iterator.Done {
			return value, at, nil
		}
		if err != nil {
			return 0, time.Time{}, b.apiError(ctx, "read the "+resource+" utilisation of "+short(revision), err)
		}
		for _, p := range ts.Points {
			if end := p.GetInterval().GetEndTime().AsTime(); end.After(at) {
				value, at = p.GetValue().GetDoubleValue(), end.UTC()
			}
		}
	}
}

// limitsOf reads the container's CPU (cores) and memory (bytes) limits.
func limitsOf(s *runpb.Service) (float64, float64) {
	limits := s.GetTemplate().GetContainers()[0].GetResources().GetLimits()
	cpus, err := strconv.ParseFloat(limits["cpu"], 64)
	if err != nil {
		cpus = 1
	}
	mem := float64(defaultMemoryMiB << 20)
	if v, ok := strings.CutSuffix(limits["memory"], "Mi"); ok {
		if n, err := strconv.ParseFloat(v, 64); err == nil {
			mem = n * (1 << 20)
		}
	}
	return cpus, mem
}
