package bench

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/host/internal/api/wire"
	"github.com/alphaswarm/controller/host/internal/backends"
	"github.com/alphaswarm/controller/host/internal/jobs"
	"github.com/alphaswarm/controller/host/internal/pluginmgr"
	"github.com/alphaswarm/controller/host/internal/store"
	"github.com/alphaswarm/controller/host/internal/testpg"
	"github.com/alphaswarm/controller/sdk"
)

// jobsPerRound is how many jobs one measurement queues and runs.
const jobsPerRound = 50

// BenchmarkJobs measures the job layer: queueing and running restart jobs
// through one worker on the memory plugin at zero latency, against making
// the same plugin calls (a restart and a status read per job) directly.
// The two take turns; each reports its median time per job as
// <db>_<variant>_p50_ns.
func BenchmarkJobs(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchJobs(b, "sqlite", store.Config{DataDir: b.TempDir()}) })
	b.Run("postgres", func(b *testing.B) {
		c, err := testpg.Start()
		testpg.Need(b, c, err)
		defer c.Stop()
		url, err := c.NewDatabase(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		benchJobs(b, "postgres", store.Config{DatabaseURL: url, StateKeys: []string{"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="}})
	})
}

func benchJobs(b *testing.B, name string, cfg store.Config) {
	ctx := context.Background()
	s, err := store.Open(ctx, cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	m := pluginmgr.New(pluginmgr.Config{PluginDirs: []string{filepath.Dir(memoryPlugin)}})
	defer m.Close()
	reg, err := backends.Open(ctx, backends.ForEveryone("memory.sim"), "bench.hcl", nil, m)
	if err != nil {
		b.Fatal(err)
	}
	w := &jobs.Worker{Store: s, Runner: &jobs.Executor{Store: s, Plugins: m, Backends: reg}, Owner: "bench"}
	backend := jobs.Backend{Type: "memory", Name: "sim", Config: json.RawMessage(`{}`)}
	spec := core.DeploymentSpec{Tenant: "bench", Environment: "prod", Name: "jobs",
		Services: []core.ServiceSpec{{Name: "web", Image: "web:1", Replicas: 2}}}
	queue := func(kind wire.Op, n int) {
		for range n {
			if _, err := s.Enqueue(ctx, store.NewJob{Deployment: spec.Ref(), Kind: string(kind), Payload: jobs.Payload{Backend: backend, Spec: &spec}, CreatedBy: "bench"}); err != nil {
				b.Fatal(err)
			}
		}
	}
	drain := func() {
		for {
			ran, err := w.RunOne(ctx, ctx)
			if err != nil {
				b.Fatal(err)
			}
			if !ran {
				return
			}
		}
	}
	queue(wire.OpApply, 1)
	drain()
	inst := m.Instance("bench/" + backend.ID())
	c, err := inst.Client(ctx)
	if err != nil {
		b.Fatal(err)
	}
	d, err := s.Deployment(ctx, spec.Ref())
	if err != nil {
		b.Fatal(err)
	}
	var viaJobs, direct durations
	for b.Loop() {
		viaJobs.time(b, func() (func(), error) {
			queue(wire.OpRestart, jobsPerRound)
			drain()
			return func() {}, nil
		})
		direct.time(b, func() (func(), error) {
			for range jobsPerRound {
				r, err := c.Restart(ctx, &sdk.RestartRequest{Deployment: spec.Ref(), State: d.State})
				if err != nil {
					return nil, err
				}
				if _, err := c.Status(ctx, &sdk.StatusRequest{Deployment: spec.Ref(), State: r.State}); err != nil {
					return nil, err
				}
			}
			return func() {}, nil
		})
	}
	perJob := func(ds durations) durations {
		out := make(durations, len(ds))
		for i, d := range ds {
			out[i] = d / jobsPerRound
		}
		return out
	}
	perJob(viaJobs).report(b, name+"_jobs")
	perJob(direct).report(b, name+"_direct")
}
