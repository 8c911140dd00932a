package main

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/alphaswarm/controller/sdk"
)

// Each simulated replica "logs" one line per log_interval since it started:
// line 0 says it started, every fifth line goes to stderr. The lines are
// computed from the start time, so history needs no storage.
const maxHistory = 1000

func (b *Backend) Logs(ctx context.Context, req *sdk.LogsRequest, send sdk.LogSender) error {
	if err := b.enter(ctx, "logs"); err != nil {
		return err
	}
	w, err := decodeWorld(req.State)
	if err != nil {
		return err
	}
	if req.Service != "" && w.service(req.Service) == nil {
		return sdk.NotFound("service %q in deployment %s", req.Service, w.Deployment)
	}
	type source struct {
		svc  *service
		r    replica
		next int // index of the next line to produce
	}
	var sources []*source
	var history []sdk.LogLine
	now := time.Now()
	for _, s := range w.Services {
		for _, r := range s.Replicas {
			if (req.Service != "" && s.Spec.Name != req.Service) || (req.Replica != "" && r.ID != req.Replica) {
				continue
			}
			src := &source{svc: s, r: r, next: b.linesBefore(r, now)}
			sources = append(sources, src)
			history = append(history, b.history(s, r, src.next, req)...)
		}
	}
	slices.SortStableFunc(history, func(a, b sdk.LogLine) int { return a.Time.Compare(b.Time) })
	for _, l := range history {
		if err := send(l); err != nil {
			return err
		}
	}
	if !req.Follow {
		return nil
	}
	tick := time.NewTicker(b.cfg.logInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		now := time.Now()
		for _, src := range sources {
			for ; src.next < b.linesBefore(src.r, now); src.next++ {
				if err := send(b.line(src.svc, src.r, src.next)); err != nil {
					return err
				}
			}
		}
	}
}

// linesBefore is how many lines replica r has logged by t.
func (b *Backend) linesBefore(r replica, t time.Time) int {
	if t.Before(r.StartedAt) {
		return 0
	}
	return int(t.Sub(r.StartedAt)/b.cfg.logInterval) + 1
}

// history returns the past lines of one replica that the request selects.
func (b *Backend) history(s *service, r replica, n int, req *sdk.LogsRequest) []sdk.LogLine {
	first := max(0, n-maxHistory)
	if req.Tail > 0 {
		first = max(first, n-req.Tail)
	}
	var out []sdk.LogLine
	for i := first; i < n; i++ {
		l := b.line(s, r, i)
		if !req.Since.IsZero() && l.Time.Before(req.Since) {
			continue
		}
		out = append(out, l)
	}
	return out
}

func (b *Backend) line(s *service, r replica, i int) sdk.LogLine {
	l := sdk.LogLine{
		Time:    r.StartedAt.Add(time.Duration(i) * b.cfg.logInterval),
		Service: s.Spec.Name, Replica: r.ID, Stream: sdk.Stdout,
		Message: fmt.Sprintf("line %d from %s", i, r.ID),
	}
	switch {
	case i == 0:
		l.Message = fmt.Sprintf("started %s as %s (simulated)", s.Spec.Image, r.ID)
	case i%5 == 0:
		l.Stream, l.Message = sdk.Stderr, fmt.Sprintf("line %d from %s (stderr)", i, r.ID)
	}
	return l
}
