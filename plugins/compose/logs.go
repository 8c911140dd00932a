package compose

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"slices"
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
	var history []sdk.LogLine
	newest := make([]time.Time, len(sources))
	for i, r := range sources {
		lines, err := b.readLogs(ctx, r, container.LogsOptions{Tail: tail(req.Tail), Since: since(req.Since)})
		if err != nil {
			return err
		}
		if len(lines) > 0 {
			newest[i] = lines[len(lines)-1].Time
		}
		history = append(history, lines...)
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
	return b.follow(ctx, sources, newest, req.Since, send)
}

// follow streams new lines of every source until ctx ends, each from just
// after the last line its history had.
func (b *Backend) follow(ctx context.Context, sources []replica, after []time.Time, from time.Time, send sdk.LogSender) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	lines := make(chan sdk.LogLine, 64)
	var wg sync.WaitGroup
	for i, r := range sources {
		start := after[i]
		if start.IsZero() {
			start = from
		}
		opts := container.LogsOptions{Follow: true, Since: since(start.Add(time.Nanosecond))}
		if start.IsZero() {
			opts.Tail, opts.Since = "0", ""
		}
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
	go func() { wg.Wait(); close(lines) }()
	for {
		select {
		case <-ctx.Done():
			return nil
		case l, ok := <-lines:
			if !ok {
				return nil // every replica stopped
			}
			if err := send(l); err != nil {
				return err
			}
		}
	}
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
