package kubernetes

import (
	"context"
	"errors"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metricsclient "k8s.io/metrics/pkg/client/clientset/versioned"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/sdk"
)

const metricsGroupVersion = "metrics.k8s.io/v1beta1"

// Metrics reads pod CPU and memory from metrics.k8s.io (metrics-server);
// on a cluster that does not serve that API it answers Unsupported.
func (b *Backend) Metrics(ctx context.Context, req *sdk.MetricsRequest) (*sdk.MetricsResponse, error) {
	if b.discovery == nil {
		return nil, errors.New("backend is not configured")
	}
	if _, err := b.discovery.ServerResourcesForGroupVersion(metricsGroupVersion); err != nil {
		if apierrors.IsNotFound(err) { // no metrics-server
			return nil, &sdk.UnsupportedError{Backend: "kubernetes", Op: "metrics",
				Reason: "the cluster does not serve " + metricsGroupVersion + "; install metrics-server"}
		}
		return nil, b.apiError("discover "+metricsGroupVersion, err)
	}
	_, t, names, err := b.operation(ctx, req.Deployment, req.State, req.Service)
	if err != nil {
		return nil, err
	}
	mc, err := metricsclient.NewForConfig(b.rest)
	if err != nil {
		return nil, err
	}
	resp := &sdk.MetricsResponse{}
	for _, service := range names {
		list, err := mc.MetricsV1beta1().PodMetricses(t.namespace).List(ctx, metav1.ListOptions{LabelSelector: t.selector(service)})
		if err != nil {
			return nil, b.apiError("read the metrics of service "+service, err)
		}
		for _, pm := range list.Items {
			at := pm.Timestamp.UTC()
			if at.IsZero() {
				at = time.Now().UTC()
			}
			var cpu, mem float64
			for _, c := range pm.Containers {
				cpu += c.Usage.Cpu().AsApproximateFloat64()
				mem += float64(c.Usage.Memory().Value())
			}
			resp.Points = append(resp.Points,
				core.MetricPoint{Service: service, Replica: pm.Name, Name: core.MetricCPUCores, Unit: "cores", Value: cpu, Time: at},
				core.MetricPoint{Service: service, Replica: pm.Name, Name: core.MetricMemoryBytes, Unit: "bytes", Value: mem, Time: at})
		}
	}
	return resp, nil
}
