package kubernetes_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alphaswarm/controller/sdk"
)

// TestLogsFollowAddsNewPods follows a service's logs, scales it up, and
// expects lines from the new pod in the same follow, prefixed with it.
func TestLogsFollowAddsNewPods(t *testing.T) {
	t.Parallel()
	c, err := plugin(t, map[string]any{"kubeconfig": needCluster(t).Kubeconfig})
	if err != nil {
		t.Fatal(err)
	}
	spec := deployment("logs", "follow", 1)
	state, err := apply(t, c, spec, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Destroy(context.Background(), &sdk.DestroyRequest{Deployment: spec.Ref(), State: state}) })
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var mu sync.Mutex
	pods := map[string]int{}
	done := make(chan error, 1)
	go func() {
		done <- c.Logs(ctx, &sdk.LogsRequest{Deployment: spec.Ref(), State: state, Service: "api", Follow: true, Tail: 1}, func(l sdk.LogLine) error {
			mu.Lock()
			defer mu.Unlock()
			if !strings.HasPrefix(l.Message, "tick ") || l.Time.IsZero() {
				t.Errorf("line %+v: want a tick with its time", l)
			}
			pods[l.Replica]++
			return nil
		})
	}()
	count := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(pods)
	}
	waitUntil(t, "a line from the first pod", func() bool { return count() == 1 })
	if _, err := c.Scale(ctx, &sdk.ScaleRequest{Deployment: spec.Ref(), State: state, Service: "api", Replicas: 2}); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "lines from the pod that joined", func() bool { return count() == 2 })
	cancel()
	if err := <-done; err != nil && ctx.Err() == nil {
		t.Errorf("follow ended with %v", err)
	}
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("no %s within 30s", what)
}
