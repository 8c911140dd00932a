package memory

import (
	"context"
	"fmt"
	"time"

	"github.com/alphaswarm/controller/sdk"
)

// Each simulated replica "logs" one line per log_interval since it started:
// line 0 says it started, every fifth line goes to stderr. The lines are
// computed from the start time, so history needs no storage.
const maxHistory = 1000

// Logs sends the history of the selected replicas, merged in time order,
// then, following, each replica's new lines as their time comes.
func (b *Backend) Logs(ctx context.Context, req *sdk.LogsRequest, send sdk.LogSender) error {
	if err := b.enter(ctx); err != nil {
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
	var history [][]sdk.LogLine
	now := time.Now()
	for _, s := range w.Services {
		for _, r := range s.Replicas {
			if (req.Service != "" && s.Spec.Name != req.Service) || (req.Replica != "" && r.ID != req.Replica) {
				continue
			}
			src := &source{svc: s, r: r, next: b.linesBefore(r, now)}
			sources = append(sources, src)
			history = append(history, b.history(s, r, src.next))
		}
	}
	if err := sdk.SendLogs(send, sdk.MergeLogHistory(history, req.Tail, req.Since)); err != nil || !req.Follow {
		return err
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

// history returns the last lines of replica r before line n, at most
// maxHistory of them.
func (b *Backend) history(s *service, r replica, n int) []sdk.LogLine {
	var out []sdk.LogLine
	for i := max(0, n-maxHistory); i < n; i++ {
		out = append(out, b.line(s, r, i))
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
