package compose

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/alphaswarm/controller/sdk"
)

// Logs sends the history of every selected replica merged by time, then,
// when following, new lines from every replica as they come. Each line is
// tagged with its service and replica.
func (b *Backend) Logs(ctx context.Context, req *sdk.LogsRequest, send sdk.LogSender) error {
	t, err := b.target(ctx, req.Deployment, req.State, req.Service)
	if err != nil {
		return err
	}
	var sources []replica
	for _, svc := range t.services {
		for _, r := range t.replicas[svc.Name] {
			if req.Replica == "" || r.short() == req.Replica {
				sources = append(sources, r)
			}
		}
	}
	if req.Replica != "" && len(sources) == 0 {
		return sdk.NotFound("replica %q of service %q", req.Replica, req.Service)
	}
	history := make([][]sdk.LogLine, len(sources))
	newest := make([]time.Time, len(sources))
	for i, r := range sources {
		lines, err := b.readLogs(ctx, r, container.LogsOptions{Tail: tail(req.Tail), Since: since(req.Since)})
		if err != nil {
			return err
		}
		if len(lines) > 0 {
			newest[i] = lines[len(lines)-1].Time
		}
		history[i] = lines
	}
	if err := sdk.SendLogs(send, sdk.MergeLogHistory(history, req.Tail, req.Since)); err != nil || !req.Follow {
		return err
	}
	return b.follow(ctx, t, req, sources, newest, send)
}

// replicaPoll is how often a follow looks for replicas that joined.
const replicaPoll = time.Second

// follow streams new lines of every source until ctx ends, each from just
// after the last line its history had, and adds replicas that start later
// (a scale, a rolling update), from their first line, as docker compose
// logs -f does.
func (b *Backend) follow(ctx context.Context, t *target, req *sdk.LogsRequest, sources []replica, after []time.Time, send sdk.LogSender) error {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	lines := make(chan sdk.LogLine, 64)
	streaming := map[string]bool{}
	stream := func(r replica, opts container.LogsOptions) {
		streaming[r.id] = true
		wg.Go(func() {
			_ = b.streamLogs(ctx, r, opts, func(l sdk.LogLine) error {
				select {
				case lines <- l:
					return nil
				case <-ctx.Done():
					return ctx.Err()
				}
			})
		})
	}
	for i, r := range sources {
		start := after[i]
		if start.IsZero() {
			start = req.Since
		}
		opts := container.LogsOptions{Follow: true, Since: since(start.Add(time.Nanosecond))}
		if start.IsZero() {
			opts.Tail, opts.Since = "0", ""
		}
		stream(r, opts)
	}
	poll := time.NewTicker(replicaPoll)
	defer poll.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case l := <-lines:
			if err := send(l); err != nil {
				return err
			}
		case <-poll.C:
			for _, r := range b.joined(ctx, t, req.Replica, streaming) {
				stream(r, container.LogsOptions{Follow: true})
			}
		}
	}
}

// joined lists the running replicas of the followed services that no
// stream reads yet.
func (b *Backend) joined(ctx context.Context, t *target, replicaID string, streaming map[string]bool) []replica {
	all, err := b.listReplicas(ctx, t.p)
	if err != nil {
		return nil
	}
	var out []replica
	for _, svc := range t.services {
		for _, r := range all[svc.Name] {
			if r.state == "running" && !streaming[r.id] && (replicaID == "" || r.short() == replicaID) {
				out = append(out, r)
			}
		}
	}
	return out
}

func (b *Backend) readLogs(ctx context.Context, r replica, opts container.LogsOptions) ([]sdk.LogLine, error) {
	var out []sdk.LogLine
	err := b.streamLogs(ctx, r, opts, func(l sdk.LogLine) error { out = append(out, l); return nil })
	return out, err
}

// streamLogs reads one container's log stream, timestamped, and splits it
// into lines for each.
func (b *Backend) streamLogs(ctx context.Context, r replica, opts container.LogsOptions, each func(sdk.LogLine) error) error {
	opts.ShowStdout, opts.ShowStderr, opts.Timestamps = true, true, true
	rc, err := b.docker.ContainerLogs(ctx, r.id, opts)
	if err != nil {
		return b.engineError(fmt.Errorf("logs of %s: %w", r.name, err))
	}
	defer rc.Close()
	var mu sync.Mutex // stdout and stderr have a goroutine each; each() is called by one at a time
	var wg sync.WaitGroup
	emit := func(stream sdk.Stream) io.WriteCloser {
		pr, pw := io.Pipe()
		wg.Go(func() {
			sc := bufio.NewScanner(pr)
			sc.Buffer(make([]byte, 64<<10), 1<<20)
			for sc.Scan() {
				l := parseLine(sc.Text(), r, stream)
				mu.Lock()
				err := each(l)
				mu.Unlock()
				if err != nil {
					pr.CloseWithError(err)
					return
				}
			}
			io.Copy(io.Discard, pr)
		})
		return pw
	}
	stdout, stderr := emit(sdk.Stdout), emit(sdk.Stderr)
	_, err = stdcopy.StdCopy(stdout, stderr, rc)
	stdout.Close()
	stderr.Close()
	wg.Wait()
	if err != nil && ctx.Err() == nil {
		return fmt.Errorf("read logs of %s: %w", r.name, err)
	}
	return nil
}

// parseLine splits the engine's "<RFC3339Nano> <message>" format.
func parseLine(text string, r replica, stream sdk.Stream) sdk.LogLine {
	l := sdk.LogLine{Service: r.service, Replica: r.short(), Stream: stream, Message: text}
	if ts, msg, ok := strings.Cut(text, " "); ok {
		if t, err := time.Parse(time.RFC3339Nano, ts); err == nil {
			l.Time, l.Message = t.UTC(), msg
		}
	}
	return l
}

func tail(n int) string {
	if n <= 0 {
		return "all"
	}
	return strconv.Itoa(n)
}

func since(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return fmt.Sprintf("%d.%09d", t.Unix(), t.Nanosecond())
}
