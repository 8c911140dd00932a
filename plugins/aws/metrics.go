package aws

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/sdk"
)

// Metrics reads each running task's CPU and memory from CloudWatch
// (GetMetricData on ECS/ContainerInsights CpuUtilized and MemoryUtilized,
// by cluster, service and task). Only Container Insights with enhanced
// observability publishes task metrics: on a cluster without it, metrics
// answer Unsupported, saying so.
func (b *Backend) Metrics(ctx context.Context, req *sdk.MetricsRequest) (*sdk.MetricsResponse, error) {
	st, err := decodeState(req.State)
	if err != nil {
		return nil, err
	}
	n := b.namer(req.Deployment)
	names, err := b.services(ctx, n, st, req.Service)
	if err != nil {
		return nil, err
	}
	clusters, err := b.clients.ecs.DescribeClusters(ctx, &ecs.DescribeClustersInput{
		Clusters: []string{b.cfg.Cluster}, Include: []ecstypes.ClusterField{ecstypes.ClusterFieldSettings},
	})
	if err != nil {
		return nil, b.awsError("describe cluster "+b.cfg.Cluster, err)
	}
	insights := ""
	for _, c := range clusters.Clusters {
		for _, s := range c.Settings {
			if s.Name == ecstypes.ClusterSettingNameContainerInsights {
				insights = aws.ToString(s.Value)
			}
		}
	}
	if insights != "enhanced" {
		return nil, &sdk.UnsupportedError{Backend: "aws", Op: "metrics",
			Reason: fmt.Sprintf("cluster %s has Container Insights %q; task metrics need it \"enhanced\" (aws ecs update-cluster-settings --settings name=containerInsights,value=enhanced)", b.cfg.Cluster, insights)}
	}
	type query struct {
		service, task, metric, unit string
		scale                       float64
	}
	var queries []query
	for _, svc := range names {
		tasks, err := b.runningTasks(ctx, n.service(svc))
		if err != nil {
			return nil, err
		}
		for _, t := range tasks {
			id := taskID(aws.ToString(t.TaskArn))
			queries = append(queries,
				query{svc, id, "CpuUtilized", core.MetricCPUCores, 1.0 / 1024},
				query{svc, id, "MemoryUtilized", core.MetricMemoryBytes, 1 << 20})
		}
	}
	var points []core.MetricPoint
	end := time.Now()
	for chunk := range slices.Chunk(queries, 500) {
		in := &cloudwatch.GetMetricDataInput{StartTime: aws.Time(end.Add(-5 * time.Minute)), EndTime: aws.Time(end), ScanBy: cwtypes.ScanByTimestampDescending}
		for i, q := range chunk {
			in.MetricDataQueries = append(in.MetricDataQueries, cwtypes.MetricDataQuery{
				Id: aws.String(fmt.Sprintf("q%d", i)),
				MetricStat: &cwtypes.MetricStat{Period: aws.Int32(60), Stat: aws.String("Average"), Metric: &cwtypes.Metric{
					Namespace: aws.String("ECS/ContainerInsights"), MetricName: aws.String(q.metric),
					Dimensions: []cwtypes.Dimension{
						{Name: aws.String("ClusterName"), Value: aws.String(b.cfg.Cluster)},
						{Name: aws.String("ServiceName"), Value: aws.String(n.service(q.service))},
						{Name: aws.String("TaskId"), Value: aws.String(q.task)},
					},
				}},
			})
		}
		p := cloudwatch.NewGetMetricDataPaginator(b.clients.cw, in)
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, b.awsError("get metric data", err)
			}
			for _, r := range page.MetricDataResults {
				var i int
				if _, err := fmt.Sscanf(aws.ToString(r.Id), "q%d", &i); err != nil || i >= len(chunk) || len(r.Values) == 0 || len(r.Timestamps) == 0 {
					continue
				}
				q := chunk[i]
				unit := "cores"
				if q.unit == core.MetricMemoryBytes {
					unit = "bytes"
				}
				points = append(points, core.MetricPoint{Service: q.service, Replica: q.task, Name: q.unit, Unit: unit,
					Value: r.Values[0] * q.scale, Time: r.Timestamps[0].UTC()})
			}
		}
	}
	return &sdk.MetricsResponse{Points: points}, nil
}

// runningTasks describes the tasks of an ECS service that should run.
func (b *Backend) runningTasks(ctx context.Context, service string) ([]ecstypes.Task, error) {
	var arns []string
	p := ecs.NewListTasksPaginator(b.clients.ecs, &ecs.ListTasksInput{Cluster: aws.String(b.cfg.Cluster), ServiceName: aws.String(service)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, b.awsError("list tasks of "+service, err)
		}
		arns = append(arns, page.TaskArns...)
	}
	var tasks []ecstypes.Task
	for chunk := range slices.Chunk(arns, 100) {
		out, err := b.clients.ecs.DescribeTasks(ctx, &ecs.DescribeTasksInput{Cluster: aws.String(b.cfg.Cluster), Tasks: chunk})
		if err != nil {
			return nil, b.awsError("describe tasks of "+service, err)
		}
		tasks = append(tasks, out.Tasks...)
	}
	return tasks, nil
}
