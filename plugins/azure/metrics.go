package azure

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	azruntime "github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/sdk"
)

// metricsAPIVersion is the Azure Monitor metrics API the plugin reads.
const metricsAPIVersion = "2023-10-01"

// The Container Apps metrics the plugin reads, split by the "replica"
// dimension: CPU in nanocores and memory working set in bytes.
const (
	metricCPU    = "UsageNanoCores"
	metricMemory = "WorkingSetBytes"
)

// metricsResponse is the part of Azure Monitor's answer the plugin reads.
type metricsResponse struct {
	Value []struct {
		Name struct {
			Value string `json:"value"`
		} `json:"name"`
		Timeseries []struct {
			Metadatavalues []struct {
				Name struct {
					Value string `json:"value"`
				} `json:"name"`
				Value string `json:"value"`
			} `json:"metadatavalues"`
			Data []struct {
				TimeStamp time.Time `json:"timeStamp"`
				Average   *float64  `json:"average"`
			} `json:"data"`
		} `json:"timeseries"`
	} `json:"value"`
}

// Metrics reads each replica's CPU and memory from Azure Monitor: the
// latest average of the last minutes, per replica of each app.
func (b *Backend) Metrics(ctx context.Context, req *sdk.MetricsRequest) (*sdk.MetricsResponse, error) {
	if b.cl == nil {
		return nil, errNotConfigured
	}
	st, err := decodeState(req.State)
	if err != nil {
		return nil, err
	}
	svcs, err := services(st, req.Deployment, req.Service)
	if err != nil {
		return nil, err
	}
	var points []core.MetricPoint
	for _, svc := range svcs {
		p, err := b.appMetrics(ctx, req.Deployment, svc)
		if err != nil {
			return nil, err
		}
		points = append(points, p...)
	}
	return &sdk.MetricsResponse{Points: points}, nil
}

func (b *Backend) appMetrics(ctx context.Context, ref core.DeploymentRef, svc string) ([]core.MetricPoint, error) {
	name := appName(b.cfg.NamePrefix, ref, svc)
	app, err := b.cl.apps.Get(ctx, b.cfg.ResourceGroup, name, nil)
	if err != nil {
		return nil, armError("read container app "+name, err)
	}
	if _, mine := owned(app.Tags, ref); !mine || app.ID == nil {
		return nil, sdk.NotFound("container app %s of service %s", name, svc)
	}
	now := time.Now().UTC()
	q := url.Values{}
	q.Set("api-version", metricsAPIVersion)
	q.Set("metricnames", metricCPU+","+metricMemory)
	q.Set("aggregation", "Average")
	q.Set("interval", "PT1M")
	q.Set("timespan", now.Add(-5*time.Minute).Format(time.RFC3339)+"/"+now.Format(time.RFC3339))
	q.Set("$filter", "replica eq '*'")
	r, err := azruntime.NewRequest(ctx, http.MethodGet, azruntime.JoinPaths(b.cl.arm.Endpoint(), *app.ID, "providers/Microsoft.Insights/metrics"))
	if err != nil {
		return nil, fmt.Errorf("read metrics of container app %s: %w", name, err)
	}
	r.Raw().URL.RawQuery = strings.ReplaceAll(q.Encode(), "+", "%20")
	r.Raw().Header.Set("Accept", "application/json")
	resp, err := b.cl.arm.Pipeline().Do(r)
	if err != nil {
		return nil, armError("read metrics of container app "+name, err)
	}
	if !azruntime.HasStatusCode(resp, http.StatusOK) {
		return nil, armError("read metrics of container app "+name, azruntime.NewResponseError(resp))
	}
	var body metricsResponse
	if err := azruntime.UnmarshalAsJSON(resp, &body); err != nil {
		return nil, fmt.Errorf("read metrics of container app %s: %w", name, err)
	}
	var points []core.MetricPoint
	for _, m := range body.Value {
		for _, ts := range m.Timeseries {
			replica := ""
			for _, md := range ts.Metadatavalues {
				if strings.EqualFold(md.Name.Value, "replica") {
					replica = md.Value
				}
			}
			// The latest sample with a value.
			for i := len(ts.Data) - 1; i >= 0; i-- {
				d := ts.Data[i]
				if d.Average == nil {
					continue
				}
				p := core.MetricPoint{Service: svc, Replica: replica, Time: d.TimeStamp}
				switch m.Name.Value {
				case metricCPU:
					p.Name, p.Unit, p.Value = core.MetricCPUCores, "cores", *d.Average/1e9
				case metricMemory:
					p.Name, p.Unit, p.Value = core.MetricMemoryBytes, "bytes", *d.Average
				default:
					continue
				}
				points = append(points, p)
				break
			}
		}
	}
	return points, nil
}
