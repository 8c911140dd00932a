package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alphaswarm/controller/host/internal/jobs"
	"github.com/alphaswarm/controller/host/internal/stacks"
)

// intervalTopology is topology() with the backend block's log_interval
// set, so that two of them configure the same backend instance name
// differently.
func intervalTopology(tenant, name string, interval int) map[string]any {
	t := topology(tenant, "prod", name)
	files := t["files"].(map[string]string)
	files["main.hcl"] = strings.Replace(files["main.hcl"], `log_interval = "20ms"`, fmt.Sprintf(`log_interval = "%dms"`, interval), 1)
	return t
}

// post sends body as JSON and returns the status code; it may run on any
// goroutine.
func post(c *http.Client, url, token string, body any) (int, string, error) {
	data, _ := json.Marshal(body)
	req, err := http.NewRequest("POST", url, bytes.NewReader(data))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out), nil
}

// TestConcurrentPlansAndAppliesNeverHang sends plans and applies from
// several tenants at once, with backend configurations that replace each
// other's plugin instances, while two workers run the jobs. Every request
// ends, each tenant gets plans and applies through, the host still applies
// afterwards, and no goroutine is left waiting on a plugin-manager lock.
func TestConcurrentPlansAndAppliesNeverHang(t *testing.T) {
	h := newHarnessOn(t, "sqlite", func(s *setup) {
		s.plugins.SupersededIdle = 20 * time.Millisecond
		s.plugins.MaxPerGroup = 64
	})
	ctx, cancel := context.WithCancel(context.Background())
	var workers sync.WaitGroup
	for i := range 2 {
		w := &jobs.Worker{Store: h.worker.Store, Runner: h.worker.Runner, Owner: fmt.Sprintf("worker-%d", i), Lease: h.worker.Lease, Poll: h.worker.Poll}
		workers.Go(func() { w.Run(ctx, ctx) })
	}
	defer func() { cancel(); workers.Wait() }()

	tenants := []string{"acme", "globex", "initech"}
	ok := sync.Map{} // "<tenant> <path>" -> true once one succeeded
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 2 * time.Minute}
	for _, tenant := range tenants {
		token := h.admin(tenant)
		for g := range 4 {
			wg.Go(func() {
				for i := range 6 {
					path, want := "/v1/plan", http.StatusOK
					if i%3 == 2 {
						path, want = "/v1/apply", http.StatusAccepted
					}
					body := intervalTopology(tenant, fmt.Sprintf("web-%d", g), 20+10*((g+i)%4))
					code, out, err := post(client, h.url+path, token, body)
					switch {
					case err != nil:
						t.Errorf("%s %s: %v", tenant, path, err)
					case code == want:
						ok.Store(tenant+" "+path, true)
					case code >= 500 && code != http.StatusServiceUnavailable:
						t.Errorf("%s %s: %d %s", tenant, path, code, out)
					}
				}
			})
		}
	}
	if !waitGroupWithin(&wg, 3*time.Minute) {
		t.Fatalf("requests still running after 3 minutes:\n%s", stacks.All())
	}
	for _, tenant := range tenants {
		for _, path := range []string{"/v1/plan", "/v1/apply"} {
			if _, done := ok.Load(tenant + " " + path); !done {
				t.Errorf("no %s of %s succeeded", path, tenant)
			}
		}
	}
	for _, tenant := range tenants {
		h.applyAndWait(tenant, "after", 2*time.Minute)
	}
	cancel()
	workers.Wait()
	checkCtx, stop := context.WithTimeout(context.Background(), 5*time.Second)
	defer stop()
	if err := h.plugins.Check(checkCtx); err != nil {
		t.Errorf("plugin manager after the run: %v", err)
	}
	if stuck := stacks.StuckOnLocks("/host/internal/pluginmgr", 2*time.Second); len(stuck) > 0 {
		t.Errorf("goroutines waiting on a plugin-manager lock after the run:\n%s", strings.Join(stuck, "\n\n"))
	}
}

// applyAndWait applies a deployment of tenant and waits for its job to
// succeed, while the test's workers run.
func (h *harness) applyAndWait(tenant, name string, timeout time.Duration) {
	h.t.Helper()
	token := h.admin(tenant)
	code, out := h.do("POST", "/v1/apply", token, intervalTopology(tenant, name, 20))
	if code != http.StatusAccepted {
		h.t.Fatalf("apply %s/%s: %d %s", tenant, name, code, out)
	}
	job := decodeJSON[struct{ Jobs []struct{ ID int64 } }](h.t, out).Jobs[0].ID
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		_, out := h.do("GET", fmt.Sprintf("/v1/jobs/%d", job), token, nil)
		switch j := decodeJSON[struct{ State, Error string }](h.t, out); j.State {
		case "succeeded":
			return
		case "failed", "cancelled":
			h.t.Fatalf("apply %s/%s: job %d %s: %s", tenant, name, job, j.State, j.Error)
		}
		time.Sleep(50 * time.Millisecond)
	}
	h.t.Fatalf("apply %s/%s: job %d did not end within %s:\n%s", tenant, name, job, timeout, stacks.All())
}

func waitGroupWithin(wg *sync.WaitGroup, d time.Duration) bool {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}
