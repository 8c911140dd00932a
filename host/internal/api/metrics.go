package api

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/alphaswarm/controller/host/internal/pluginmgr"
	"github.com/alphaswarm/controller/host/internal/store"
)

// metrics are the host's Prometheus metrics: API requests and latency by
// route, plugin launches and crashes, and jobs by state.
type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	// auditDropped counts denials of requests without a valid token that
	// went unaudited, past the audit log's rate for them.
	auditDropped prometheus.Counter
}

func newMetrics(plugins *pluginmgr.Manager, st *store.Store) *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "alphaswarm_http_requests_total", Help: "API requests by method, route and status.",
		}, []string{"method", "route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "alphaswarm_http_request_duration_seconds", Help: "API request latency by route.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 8),
		}, []string{"method", "route"}),
		auditDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "alphaswarm_audit_anonymous_denials_dropped_total",
			Help: "Denials of requests without a valid token left out of the audit log, past its rate of 10 a second.",
		}),
	}
	m.registry.MustRegister(m.requests, m.latency, m.auditDropped, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "alphaswarm_plugin_launches_total", Help: "Plugin processes launched.",
	}, func() float64 { l, _ := plugins.Stats(); return float64(l) }))
	m.registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "alphaswarm_plugin_crashes_total", Help: "Plugin processes that exited unexpectedly.",
	}, func() float64 { _, c := plugins.Stats(); return float64(c) }))
	m.registry.MustRegister(&jobCollector{store: st, desc: prometheus.NewDesc("alphaswarm_jobs", "Jobs in the store by state.", []string{"state"}, nil)})
	return m
}

func (m *metrics) request(method, route string, code int, took time.Duration) {
	if code == 0 {
		code = http.StatusOK
	}
	m.requests.WithLabelValues(method, route, strconv.Itoa(code)).Inc()
	m.latency.WithLabelValues(method, route).Observe(took.Seconds())
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// jobCollector reads job counts from the store at scrape time, so every
// host of a cluster reports the shared queue.
type jobCollector struct {
	store *store.Store
	desc  *prometheus.Desc
}

func (c *jobCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *jobCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	counts, err := c.store.JobCounts(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.desc, err)
		return
	}
	for _, state := range []store.JobState{store.JobQueued, store.JobRunning, store.JobSucceeded, store.JobFailed, store.JobCancelled} {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(counts[state]), string(state))
	}
}
