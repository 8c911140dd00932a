package sdk

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/alphaswarm/controller/core"
)

func TestProgressStampsEvents(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 7, 10, 0, 0, 5, time.FixedZone("CET", 3600))
	for _, tc := range []struct {
		name   string
		report func(*Progress)
		want   core.Event
	}{
		{"info about a replica", func(p *Progress) { p.Infof("api", "api-1", "started %s", "api-1") },
			core.Event{Time: at.UTC(), Level: core.EventInfo, Service: "api", Replica: "api-1", Message: "started api-1"}},
		{"a warning about the deployment", func(p *Progress) { p.Warnf("", "", "%d services left", 2) },
			core.Event{Time: at.UTC(), Level: core.EventWarning, Message: "2 services left"}},
		{"an event with its own time and no level", func(p *Progress) {
			p.Report(core.Event{Time: at.Add(-time.Hour), Service: "db", Message: "m"})
		}, core.Event{Time: at.UTC(), Level: core.EventInfo, Service: "db", Message: "m"}},
		{"an error event", func(p *Progress) { p.Report(core.Event{Level: core.EventError, Message: "failed"}) },
			core.Event{Time: at.UTC(), Level: core.EventError, Message: "failed"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var got []core.Event
			p := NewProgress(func(e core.Event) { got = append(got, e) })
			p.now = func() time.Time { return at }
			tc.report(p)
			if diff := cmp.Diff([]core.Event{tc.want}, got); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
			if got[0].Time.Location() != time.UTC {
				t.Errorf("event time in %s, want UTC", got[0].Time.Location())
			}
		})
	}
}

// TestProgressIsSafeForConcurrentUse reports from many goroutines into a
// ProgressFunc that is not safe itself: run under -race, and every event
// arrives, one at a time.
func TestProgressIsSafeForConcurrentUse(t *testing.T) {
	t.Parallel()
	var got []core.Event
	inside := 0
	p := NewProgress(func(e core.Event) {
		inside++
		if inside != 1 {
			t.Errorf("the ProgressFunc runs %d times at once", inside)
		}
		got = append(got, e)
		inside--
	})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 50 {
				p.Infof(fmt.Sprint("svc", i), "", "event %d", j)
			}
		})
	}
	wg.Wait()
	if len(got) != 8*50 {
		t.Errorf("%d events, want %d", len(got), 8*50)
	}
	for _, e := range got {
		if e.Time.IsZero() || e.Time.Location() != time.UTC {
			t.Errorf("event %+v has no UTC time", e)
		}
	}
}

func TestProgressWithoutAFuncDropsEvents(t *testing.T) {
	t.Parallel()
	var p *Progress
	p.Infof("api", "", "dropped") // a nil Progress does not panic
	NewProgress(nil).Warnf("api", "", "dropped")
}
