package compose

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/docker/docker/api/types/container"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/sdk"
)

// cpuSampleGap separates the two stats samples a CPU figure is computed from.
const cpuSampleGap = 250 * time.Millisecond

// Metrics reports CPU (cores, over a short window) and memory (bytes, page
// cache excluded, as docker stats shows it) of every running replica.
func (b *Backend) Metrics(ctx context.Context, req *sdk.MetricsRequest) (*sdk.MetricsResponse, error) {
	t, err := b.target(ctx, req.Deployment, req.State, req.Service)
	if err != nil {
		return nil, err
	}
	var (
		mu     sync.Mutex
		wg     sync.WaitGroup
		points []core.MetricPoint
		errs   []error
	)
	for _, svc := range t.services {
		for _, r := range t.replicas[svc.Name] {
			if r.state != "running" {
				continue
			}
			wg.Go(func() {
				ps, err := b.replicaMetrics(ctx, r)
				mu.Lock()
				defer mu.Unlock()
				points = append(points, ps...)
				if err != nil {
					errs = append(errs, err)
				}
			})
		}
	}
	wg.Wait()
	if len(points) == 0 && len(errs) > 0 {
		return nil, errs[0]
	}
	return &sdk.MetricsResponse{Points: points}, nil
}

func (b *Backend) replicaMetrics(ctx context.Context, r replica) ([]core.MetricPoint, error) {
	first, err := b.stats(ctx, r)
	if err != nil {
		return nil, err
	}
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(cpuSampleGap):
	}
	second, err := b.stats(ctx, r)
	if err != nil {
		return nil, err
	}
	cores := 0.0
	if dSys := float64(second.CPUStats.SystemUsage) - float64(first.CPUStats.SystemUsage); dSys > 0 {
		dCPU := float64(second.CPUStats.CPUUsage.TotalUsage) - float64(first.CPUStats.CPUUsage.TotalUsage)
		cores = dCPU / dSys * float64(max(second.CPUStats.OnlineCPUs, 1))
	}
	mem := second.MemoryStats.Usage
	for _, k := range []string{"total_inactive_file", "inactive_file"} { // cgroup v1, v2
		if v, ok := second.MemoryStats.Stats[k]; ok && v < mem {
			mem -= v
			break
		}
	}
	now := time.Now().UTC()
	return []core.MetricPoint{
		{Service: r.service, Replica: r.short(), Name: core.MetricCPUCores, Unit: "cores", Value: max(cores, 0), Time: now},
		{Service: r.service, Replica: r.short(), Name: core.MetricMemoryBytes, Unit: "bytes", Value: float64(mem), Time: now},
	}, nil
}

func (b *Backend) stats(ctx context.Context, r replica) (*container.StatsResponse, error) {
	resp, err := b.docker.ContainerStatsOneShot(ctx, r.id)
	if err != nil {
		return nil, b.engineError(fmt.Errorf("stats of %s: %w", r.name, err))
	}
	defer resp.Body.Close()
	var s container.StatsResponse
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		return nil, fmt.Errorf("stats of %s: %w", r.name, err)
	}
	return &s, nil
}

// NodeHealth reports the engine: reachable or not, version, CPUs, memory,
// and the disk under its data root when the engine is local.
func (b *Backend) NodeHealth(ctx context.Context, _ *sdk.NodeHealthRequest) (*sdk.NodeHealthResponse, error) {
	if b.docker == nil {
		return nil, fmt.Errorf("backend is not configured")
	}
	node := core.NodeHealth{Name: b.cfg.engineAddress()}
	info, err := b.docker.Info(ctx)
	if err != nil {
		node.Health, node.Reasons = core.HealthDown, []string{b.engineError(err).Error()}
		return &sdk.NodeHealthResponse{Nodes: []core.NodeHealth{node}}, nil
	}
	node.Name, node.Reachable, node.Health = info.Name, true, core.HealthReady
	node.Version, node.CPUs, node.MemoryBytes = info.ServerVersion, float64(info.NCPU), info.MemTotal
	node.Labels = map[string]string{
		"os": info.OperatingSystem, "kernel": info.KernelVersion, "storage_driver": info.Driver,
		"engine": b.cfg.engineAddress(), "containers_running": fmt.Sprint(info.ContainersRunning),
	}
	if local(b.cfg.engineAddress()) {
		var fs syscall.Statfs_t
		if syscall.Statfs(info.DockerRootDir, &fs) == nil {
			node.DiskBytes = int64(fs.Blocks) * int64(fs.Bsize) // Bsize is uint32 on darwin
			if free := int64(fs.Bavail) * int64(fs.Bsize); free < node.DiskBytes/20 {
				node.Health = core.HealthDegraded
				node.Reasons = append(node.Reasons, fmt.Sprintf("less than 5%% disk free under %s", info.DockerRootDir))
			}
		}
	}
	for _, w := range info.Warnings {
		node.Reasons = append(node.Reasons, strings.TrimPrefix(w, "WARNING: "))
	}
	return &sdk.NodeHealthResponse{Nodes: []core.NodeHealth{node}}, nil
}

func local(addr string) bool {
	u, err := url.Parse(addr)
	return err == nil && u.Scheme == "unix"
}
