package gcp_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/sdk"
)

// TestLogs reads Cloud Logging's entries of a deployment: the tail of each
// instance, stderr told from stdout, one instance, and new lines of every
// service followed until the caller leaves.
func TestLogs(t *testing.T) {
	b := configured(t, nil)
	spec := oneService("logs", "registry.example/echo:1")
	spec.Services = append(spec.Services, core.ServiceSpec{Name: "worker", Image: "registry.example/echo:1", Replicas: 1,
		Ports: []core.Port{{Name: "http", Container: 8080, Protocol: core.ProtocolTCP}}})
	resp, err := b.Apply(ctx(t), &sdk.ApplyRequest{Deployment: spec}, func(core.Event) {})
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	t.Cleanup(func() { b.Destroy(context.Background(), &sdk.DestroyRequest{Deployment: spec.Ref()}) })
	api, worker := servicesOf(spec.Ref())["api"], servicesOf(spec.Ref())["worker"]
	fake.Log(api.Name, 0, "stderr", "boom")

	read := func(req sdk.LogsRequest) []sdk.LogLine {
		t.Helper()
		req.Deployment, req.State = spec.Ref(), resp.State
		var lines []sdk.LogLine
		if err := b.Logs(ctx(t), &req, func(l sdk.LogLine) error { lines = append(lines, l); return nil }); err != nil {
			t.Fatalf("logs of %q, replica %q: %v", req.Service, req.Replica, err)
		}
		return lines
	}
	lines := read(sdk.LogsRequest{Service: "api", Tail: 1})
	if len(lines) != 2 {
		t.Fatalf("tail 1 of api's 2 instances: %+v, want 2 lines", lines)
	}
	first := api.LatestReadyRevision + "-0"
	for _, l := range lines {
		if l.Replica == first && (l.Message != "boom" || l.Stream != sdk.Stderr) {
			t.Errorf("the last line of %s is %+v, want boom on stderr", first, l)
		}
	}
	if got := read(sdk.LogsRequest{Service: "api", Replica: first}); len(got) != 3 {
		t.Errorf("instance %s: %d lines, want 3: %+v", first, len(got), got)
	}
	err = b.Logs(ctx(t), &sdk.LogsRequest{Deployment: spec.Ref(), State: resp.State, Service: "api", Replica: `x" OR resource.type="cloud_run_revision`},
		func(l sdk.LogLine) error { t.Errorf("a replica that tries to widen the filter got %+v", l); return nil })
	if nf := (*sdk.NotFoundError)(nil); !errors.As(err, &nf) {
		t.Errorf("a replica that tries to widen the filter: %v, want NotFound", err)
	}
	if got := read(sdk.LogsRequest{Since: time.Now().Add(time.Hour)}); len(got) != 0 {
		t.Errorf("lines since an hour from now: %+v", got)
	}

	c, cancel := context.WithCancel(ctx(t))
	got := make(chan sdk.LogLine, 100)
	done := make(chan error, 1)
	go func() {
		done <- b.Logs(c, &sdk.LogsRequest{Deployment: spec.Ref(), State: resp.State, Follow: true, Tail: 1}, func(l sdk.LogLine) error {
			select {
			case got <- l:
			default:
			}
			return nil
		})
	}()
	// The stream sees lines written once it is open: write until one
	// arrives.
	deadline := time.After(20 * time.Second)
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for found := false; !found; {
		select {
		case l := <-got:
			found = l.Service == "worker" && l.Message == "followed"
		case <-tick.C:
			fake.Log(worker.Name, 0, "stdout", "followed")
		case <-deadline:
			t.Fatalf("no followed line from worker")
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("logs -follow after cancel: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Errorf("logs -follow did not end after cancel")
	}
}
