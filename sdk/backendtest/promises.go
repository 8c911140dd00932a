package backendtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/sdk"
)

// testApplyCancel cancels an apply at its first progress event and expects
// the plugin's Apply to end within CancelGrace with a cancellation error.
// The host's call returns as soon as its own context ends, so the kit reads
// the plugin's side from the SDK's "apply ended" line on its stderr.
func (s *suite) testApplyCancel(t *testing.T) {
	d := s.newDeployment(t, map[string]int{"api": 3})
	c := s.connect(t) // a process of its own, so that its stderr is this check's
	d.c = c
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var cancelledAt time.Time
	resp, err := c.Apply(ctx, &sdk.ApplyRequest{Deployment: d.spec, Secrets: d.secrets}, func(core.Event) {
		if cancelledAt.IsZero() {
			cancelledAt = time.Now()
			cancel()
		}
	})
	if resp != nil {
		d.state = resp.State
	}
	// Whatever the cancelled apply created, destroy with the state it
	// returned removes.
	defer func() {
		if t.Failed() {
			return
		}
		if err := d.tryDestroy(); err != nil {
			t.Fatalf("after a cancelled apply: %v", err)
		}
		d.waitFor(t, "nothing left of a cancelled apply after destroy", gone)
	}()
	switch {
	case cancelledAt.IsZero():
		t.Fatalf("apply reported no progress event to cancel at (err %v)", err)
	case err == nil:
		t.Logf("apply finished before its cancellation reached the plugin")
		return
	case !errors.Is(err, context.Canceled):
		t.Errorf("apply cancelled after its first event: got %v, want context.Canceled", err)
	}
	deadline := cancelledAt.Add(s.h.CancelGrace + 250*time.Millisecond) // the line needs a moment through the pipe
	for {
		out, ok := outputOf(c)
		if !ok {
			t.Fatalf("cannot see the plugin's side of the apply: Harness.Connect must come from Launch, LaunchPackage or InProcess")
		}
		if line := findApplyEnded(out, d.spec.Ref().String()); line != nil {
			after := line.ranAfterCancel()
			t.Logf("the plugin's apply ended %s after its context did (context done: %v, cancellation error: %v, ran %s)",
				after, line.ContextDone, line.Cancelled, line.Elapsed)
			switch {
			case after > s.h.CancelGrace:
				t.Errorf("the plugin's apply went on for %s after its cancellation, more than %s (Harness.CancelGrace): it must honour its context", after, s.h.CancelGrace)
			case line.ContextDone && !line.Cancelled && after > raceAllowance:
				t.Errorf("the plugin's apply ended %s after its cancellation without a cancellation error (failed: %v): return ctx.Err() or an error wrapping it",
					after, line.Failed)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the plugin's apply did not end within %s of its cancellation (Harness.CancelGrace): it must honour its context", s.h.CancelGrace)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// raceAllowance is how soon after its cancellation an apply may end with
// success: it had finished its work before it could see the cancellation.
const raceAllowance = 100 * time.Millisecond

// testStateIsEnough applies with one plugin process and then runs status,
// logs, restart, scale and destroy each from a freshly launched process
// that has nothing but the state blob.
func (s *suite) testStateIsEnough(t *testing.T) {
	d := s.newDeployment(t, map[string]int{"api": 2})
	d.apply(t)
	before := d.waitFor(t, "ready after apply", d.allReady)
	fresh := func() { d.c = s.connect(t) }

	fresh()
	d.waitFor(t, "status from a fresh plugin process given only the state: ready", d.allReady)
	if s.declares(sdk.CapLogs) {
		fresh()
		d.waitLogs(t, 3)
	}
	if s.declares(sdk.CapRestart) {
		fresh()
		resp, err := d.client().Restart(d.ctx(t), &sdk.RestartRequest{Deployment: d.spec.Ref(), State: d.state, Service: "api"})
		if err != nil {
			t.Fatalf("restart from a fresh plugin process given only the state: %v", err)
		}
		d.keep(resp.State)
		fresh()
		d.waitFor(t, "restarted from a fresh plugin process given only the state", func(st core.DeploymentStatus) string {
			if p := d.allReady(st); p != "" {
				return p
			}
			for i, old := range before.Service("api").Replicas {
				r := st.Service("api").Replicas[min(i, len(st.Service("api").Replicas)-1)]
				if r.ID == old.ID && r.Restarts <= old.Restarts && !r.StartedAt.After(old.StartedAt) {
					return fmt.Sprintf("replica %s shows no restart", old.ID)
				}
			}
			return ""
		})
	}
	if s.declares(sdk.CapScale) {
		fresh()
		resp, err := d.client().Scale(d.ctx(t), &sdk.ScaleRequest{Deployment: d.spec.Ref(), State: d.state, Service: "api", Replicas: 3})
		if err != nil {
			t.Fatalf("scale from a fresh plugin process given only the state: %v", err)
		}
		d.keep(resp.State)
		fresh()
		d.waitFor(t, "scaled to 3 by a fresh plugin process given only the state", serviceReady("api", 3))
	}
	fresh()
	if err := d.tryDestroy(); err != nil {
		t.Fatalf("from a fresh plugin process given only the state: %v", err)
	}
	fresh()
	d.waitFor(t, "gone after a destroy from a fresh plugin process given only the state", gone)
}

// testCrashMidApply kills the plugin process at the first and at the second
// progress event of an apply; a new process applies the same spec again
// from the last state the host has. The result must be the deployment as
// specified, with exactly the desired replicas, and destroy must leave
// nothing behind.
func (s *suite) testCrashMidApply(t *testing.T) {
	if s.connect(t).Pid() == 0 {
		t.Skip("CrashMidApply kills the plugin process: it needs Harness.Connect from Launch or LaunchPackage")
	}
	runAll(t, 3, []check{
		{"AtEvent1", func(t *testing.T) { s.crashAt(t, 1, false) }},
		{"AtEvent2", func(t *testing.T) { s.crashAt(t, 2, false) }},
		{"AtEvent1OfUpdate", func(t *testing.T) { s.crashAt(t, 1, true) }},
	})
}

// crashAt kills the plugin at progress event at of an apply: of a new
// deployment, or of an update that changes api and adds a replica to it.
func (s *suite) crashAt(t *testing.T, at int, update bool) {
	d := s.newDeployment(t, map[string]int{"api": 2, "worker": 1})
	if update {
		d.apply(t)
		d.waitFor(t, "ready after apply", d.allReady)
		api := d.spec.Service("api")
		api.Env = maps.Clone(api.Env)
		if api.Env == nil {
			api.Env = map[string]string{}
		}
		api.Env["CONFORMANCE_REVISION"] = "2"
		api.Replicas = 3
	}
	victim := s.connect(t)
	proc, err := os.FindProcess(victim.Pid())
	if err != nil {
		t.Fatalf("find plugin process: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.h.Timeout)
	defer cancel()
	events := 0
	var killErr error
	resp, applyErr := victim.Apply(ctx, &sdk.ApplyRequest{Deployment: d.spec, PriorState: d.state, Secrets: d.secrets}, func(core.Event) {
		if events++; events == at {
			killErr = proc.Kill()
		}
	})
	if killErr != nil {
		t.Fatalf("kill plugin at progress event %d: %v", at, killErr)
	}
	switch {
	case events < at:
		t.Logf("apply reported %d progress events, so the plugin was not killed at event %d (err %v)", events, at, applyErr)
	case applyErr == nil:
		t.Logf("apply finished before the kill at event %d reached the plugin", at)
	}
	if resp != nil {
		d.keep(resp.State)
	}

	d.c = s.connect(t)
	if _, err := d.tryApply(); err != nil {
		t.Fatalf("re-apply in a new plugin process after the plugin was killed at progress event %d: %v", at, err)
	}
	d.waitFor(t, fmt.Sprintf("after the plugin was killed at progress event %d and a new one applied again: exactly the desired replicas", at), d.allReady)
	for _, c := range d.plan(t).Services {
		if c.Action != sdk.ActionNoop {
			t.Errorf("after the plugin was killed at progress event %d and a new one applied again: plan says %s is %s %+v, want no-op", at, c.Service, c.Action, c.Fields)
		}
	}
	if err := d.tryDestroy(); err != nil {
		t.Fatal(err)
	}
	d.c = s.connect(t)
	d.waitFor(t, fmt.Sprintf("after the plugin was killed at progress event %d: nothing left after destroy", at), gone)
}

// testSecretsStaySecret applies a service with a secret value and looks for
// the value, raw, base64 or hex, everywhere but the workload: state, events,
// plans, status, errors and the plugin's stderr.
func (s *suite) testSecretsStaySecret(t *testing.T) {
	secret := "kit-secret-" + rand.Text()
	d := s.newDeployment(t, map[string]int{"api": 1})
	d.c = s.connect(t) // a process of its own, so that its stderr is this check's
	for i := range d.spec.Services {
		svc := &d.spec.Services[i]
		svc.SecretEnv = append(slices.Clone(svc.SecretEnv), core.SecretRef{Env: "CONFORMANCE_SECRET", Ref: "conformance/secret"})
	}
	d.secrets = sdk.SecretValues{"conformance/secret": secret}

	seen := map[string][]byte{} // where -> what the kit saw there
	var mu sync.Mutex
	record := func(where string, v any) {
		b, ok := v.([]byte)
		if !ok {
			var err error
			if b, err = json.Marshal(v); err != nil {
				t.Fatalf("record %s: %v", where, err)
			}
		}
		mu.Lock()
		defer mu.Unlock()
		seen[where] = append(seen[where], b...)
	}

	record("the plan of the new deployment", d.plan(t))
	events := d.apply(t)
	record("the state after apply", d.state)
	record("the apply's events", events)
	record("the status", d.waitFor(t, "ready after apply", d.allReady))
	record("the plan after apply", d.plan(t))
	events = d.apply(t)
	record("the state after the second apply", d.state)
	record("the second apply's events", events)

	// The same secret under another spec: an update, cancelled midway.
	d.spec.Services[0].Env = map[string]string{"CONFORMANCE_REVISION": "2"}
	record("the plan of an update", d.plan(t))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var cancelled []core.Event
	resp, err := d.client().Apply(ctx, &sdk.ApplyRequest{Deployment: d.spec, PriorState: d.state, Secrets: d.secrets},
		func(e core.Event) { cancelled = append(cancelled, e); cancel() })
	if resp != nil {
		d.state = resp.State
		record("the state of a cancelled apply", d.state)
	}
	record("the events of a cancelled apply", cancelled)
	if err != nil {
		record("the error of a cancelled apply", []byte(err.Error()))
	}
	if s.declares(sdk.CapRestart) {
		_, err := d.client().Restart(d.ctx(t), &sdk.RestartRequest{Deployment: d.spec.Ref(), State: d.state, Service: "no-such-service"})
		if err != nil {
			record("errors", []byte(err.Error()))
		}
	}
	if s.declares(sdk.CapScale) {
		_, err := d.client().Scale(d.ctx(t), &sdk.ScaleRequest{Deployment: d.spec.Ref(), State: d.state, Service: "no-such-service", Replicas: 1})
		if err != nil {
			record("errors", []byte(err.Error()))
		}
	}
	if err := d.tryDestroy(); err != nil {
		record("errors", []byte(err.Error()))
	}
	time.Sleep(100 * time.Millisecond) // let the last stderr lines through the pipe
	if out, ok := outputOf(d.c); ok {
		record("the plugin's stderr", out)
	} else {
		t.Errorf("cannot see the plugin's stderr: Harness.Connect must come from Launch, LaunchPackage or InProcess")
	}
	for _, where := range slices.Sorted(func(yield func(string) bool) {
		for k := range seen {
			if !yield(k) {
				return
			}
		}
	}) {
		if form := findSecret(seen[where], secret); form != "" {
			t.Errorf("the secret value (%s) is in %s", form, where)
		}
	}
}

// findSecret says in which form secret appears in b: raw, base64 (at any
// alignment, with any alphabet) or hex; "" when it does not.
func findSecret(b []byte, secret string) string {
	if bytes.Contains(b, []byte(secret)) {
		return "raw"
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
		for shift := range 3 {
			e := enc.EncodeToString(append(make([]byte, shift), secret...))
			// Keep only the characters that depend on the secret alone.
			if core := e[4 : len(e)-4]; bytes.Contains(b, []byte(core)) {
				return "base64"
			}
		}
	}
	h := hex.EncodeToString([]byte(secret))
	if bytes.Contains(b, []byte(h)) || bytes.Contains(b, []byte(strings.ToUpper(h))) {
		return "hex"
	}
	return ""
}

// testConcurrentDeployments applies two deployments with the same services
// at once; both must become ready, and destroying one must leave the other
// as it was.
func (s *suite) testConcurrentDeployments(t *testing.T) {
	a := s.newDeployment(t, map[string]int{"api": 2})
	b := s.newDeployment(t, map[string]int{"api": 2})
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, d := range []*deployment{a, b} {
		wg.Go(func() {
			if _, err := d.tryApply(); err != nil {
				errs[i] = err
				return
			}
			_, errs[i] = d.tryWaitFor("ready after two deployments were applied at once", d.allReady)
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	bBefore := b.status(t)
	if err := a.tryDestroy(); err != nil {
		t.Fatal(err)
	}
	a.waitFor(t, "the destroyed deployment is gone", gone)
	bAfter := b.waitFor(t, "the other deployment is still ready after one was destroyed", b.allReady)
	if diff := cmp.Diff(replicaIDs(bBefore, "api"), replicaIDs(bAfter, "api")); diff != "" {
		t.Errorf("destroying one deployment disturbed the other's replicas (-before +after):\n%s", diff)
	}
	// One is applied again while the other is destroyed.
	wg.Go(func() {
		if _, errs[0] = a.tryApply(); errs[0] == nil {
			_, errs[0] = a.tryWaitFor("ready, applied again while the other deployment was destroyed", a.allReady)
		}
	})
	wg.Go(func() {
		if errs[1] = b.tryDestroy(); errs[1] == nil {
			_, errs[1] = b.tryWaitFor("gone, destroyed while the other deployment was applied", gone)
		}
	})
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
}
