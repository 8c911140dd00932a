package pluginmgr

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Check is a cheap liveness probe for the daemon's /readyz: it returns nil
// when the manager's lock and every instance's lock can each be taken
// within ctx, and otherwise an error naming the lock that is stuck. However
// often it runs, a stuck lock costs one waiting goroutine.
func (m *Manager) Check(ctx context.Context) error {
	p := m.probe.start(&m.mu, m.instanceList)
	if err := p.wait(ctx); err != nil {
		return fmt.Errorf("plugin manager: %w", err)
	}
	probes := make([]*probe, len(p.instances))
	for k, inst := range p.instances {
		probes[k] = inst.probe.start(&inst.mu, nil)
	}
	for k, inst := range p.instances {
		if err := probes[k].wait(ctx); err != nil {
			return fmt.Errorf("backend %q: instance %w", inst.cfg.Name, err)
		}
	}
	return nil
}

// instanceList returns the instances in the table. The caller holds m.mu.
func (m *Manager) instanceList() []*Instance {
	list := make([]*Instance, 0, len(m.instances))
	for _, inst := range m.instances {
		list = append(list, inst)
	}
	slices.SortFunc(list, func(a, b *Instance) int { return cmp.Compare(a.cfg.Name, b.cfg.Name) })
	return list
}

// prober takes one lock from a helper goroutine on Check's behalf. It runs
// at most one probe of its lock at a time: a Check that finds one in
// flight waits for that one instead of starting another, so a lock that
// stays stuck never piles up goroutines.
type prober struct{ inflight atomic.Pointer[probe] }

// probe is one attempt to take a lock.
type probe struct {
	started   time.Time
	done      chan struct{} // closed once the lock was taken and released
	instances []*Instance   // what whileHeld returned, read after done
}

// start returns the probe in flight, or starts one that calls whileHeld,
// if not nil, while it holds mu.
func (pr *prober) start(mu *sync.Mutex, whileHeld func() []*Instance) *probe {
	for {
		if p := pr.inflight.Load(); p != nil {
			return p
		}
		p := &probe{started: time.Now(), done: make(chan struct{})}
		if pr.inflight.CompareAndSwap(nil, p) {
			go pr.run(p, mu, whileHeld)
			return p
		}
	}
}

func (pr *prober) run(p *probe, mu *sync.Mutex, whileHeld func() []*Instance) {
	mu.Lock()
	if whileHeld != nil {
		p.instances = whileHeld()
	}
	mu.Unlock()
	pr.inflight.Store(nil)
	close(p.done)
}

// wait returns nil once the probe took its lock, or an error if ctx ends
// first.
func (p *probe) wait(ctx context.Context) error {
	select {
	case <-p.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("lock held for more than %s: %w", time.Since(p.started).Round(time.Millisecond), ctx.Err())
	}
}
