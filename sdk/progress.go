package sdk

import (
	"fmt"
	"sync"
	"time"

	"github.com/alphaswarm/controller/core"
)

// Progress reports the events of one running operation to a ProgressFunc.
// It is safe for concurrent use: goroutines that converge services side by
// side may share one, and the ProgressFunc sees one event at a time. It
// stamps each event's Time, in UTC, when it is reported. A nil *Progress,
// or one made from a nil ProgressFunc, drops every event.
type Progress struct {
	mu  sync.Mutex
	fn  ProgressFunc
	now func() time.Time
}

// NewProgress returns a Progress that passes events to fn.
func NewProgress(fn ProgressFunc) *Progress { return &Progress{fn: fn, now: time.Now} }

// Report sends e with its Time set to now (UTC), whatever it held.
func (p *Progress) Report(e core.Event) {
	if p == nil || p.fn == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	e.Time = p.now().UTC()
	if e.Level == "" {
		e.Level = core.EventInfo
	}
	p.fn(e)
}

// Infof reports an info event about a replica of a service (either may be
// empty: the whole deployment, or the whole service).
func (p *Progress) Infof(service, replica, format string, args ...any) {
	p.Report(core.Event{Level: core.EventInfo, Service: service, Replica: replica, Message: fmt.Sprintf(format, args...)})
}

// Warnf reports a warning event, as Infof does.
func (p *Progress) Warnf(service, replica, format string, args ...any) {
	p.Report(core.Event{Level: core.EventWarning, Service: service, Replica: replica, Message: fmt.Sprintf(format, args...)})
}
