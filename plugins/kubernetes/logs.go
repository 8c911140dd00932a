package kubernetes

import (
	"bufio"
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/alphaswarm/controller/sdk"
)

// podPoll is how often a follow looks for pods that joined the service.
const podPoll = time.Second

// Logs reads pods/log of every pod of the service (or one replica): the
// history merged in time order, then, following, each pod's new lines as
// they come, including pods that join while the follow runs.
func (b *Backend) Logs(ctx context.Context, req *sdk.LogsRequest, send sdk.LogSender) error {
	_, t, names, err := b.operation(ctx, req.Deployment, req.State, req.Service)
	if err != nil {
		return err
	}
	if req.Service == "" {
		return errors.New("logs needs a service")
	}
	service := names[0]
	pods, err := b.logPods(ctx, t, service, req.Replica)
	if err != nil {
		return err
	}
	history := make([][]sdk.LogLine, len(pods))
	for i, p := range pods {
		if history[i], err = b.readPodLogs(ctx, t, service, p, req, false, nil); err != nil {
			return err
		}
	}
	if err := sdk.SendLogs(send, sdk.MergeLogHistory(history, req.Tail, req.Since)); err != nil || !req.Follow {
		return err
	}
	return b.follow(ctx, t, service, req, pods, send)
}

// logPods lists the service's pods that have started, or the one replica.
func (b *Backend) logPods(ctx context.Context, t target, service, replica string) ([]string, error) {
	list, err := b.client.CoreV1().Pods(t.namespace).List(ctx, metav1.ListOptions{LabelSelector: t.selector(service)})
	if err != nil {
		return nil, b.apiError("list the pods of service "+service, err)
	}
	var out []string
	for _, p := range list.Items {
		if (replica == "" || p.Name == replica) && p.Status.StartTime != nil && p.DeletionTimestamp == nil {
			out = append(out, p.Name)
		}
	}
	if replica != "" && len(out) == 0 {
		return nil, sdk.NotFound("replica %q of service %s", replica, service)
	}
	slices.Sort(out)
	return out, nil
}

// follow streams every pod's new lines, adding pods as they start.
func (b *Backend) follow(ctx context.Context, t target, service string, req *sdk.LogsRequest, pods []string, send sdk.LogSender) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var mu sync.Mutex
	var sendErr error
	emit := func(l sdk.LogLine) {
		mu.Lock()
		defer mu.Unlock()
		if sendErr == nil {
			if sendErr = send(l); sendErr != nil {
				cancel()
			}
		}
	}
	var wg sync.WaitGroup
	streaming := map[string]bool{}
	start := func(pod string, tail bool) {
		streaming[pod] = true
		wg.Go(func() {
			r := *req
			r.Tail, r.Since = 0, time.Now()
			if tail { // a pod that joined: its lines from the start
				r.Since = time.Time{}
			}
			b.readPodLogs(ctx, t, service, pod, &r, true, emit)
		})
	}
	for _, p := range pods {
		start(p, false)
	}
	for ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case <-time.After(podPoll):
			if now, err := b.logPods(ctx, t, service, req.Replica); err == nil {
				for _, p := range now {
					if !streaming[p] {
						start(p, true)
					}
				}
			}
		}
	}
	wg.Wait()
	return sendErr
}

// readPodLogs reads one pod's lines with timestamps; following, it hands
// each to emit as it arrives, otherwise it returns them.
func (b *Backend) readPodLogs(ctx context.Context, t target, service, pod string, req *sdk.LogsRequest, follow bool, emit func(sdk.LogLine)) ([]sdk.LogLine, error) {
	opts := &corev1.PodLogOptions{Container: service, Follow: follow, Timestamps: true}
	if req.Tail > 0 {
		tail := int64(req.Tail)
		opts.TailLines = &tail
	}
	if !req.Since.IsZero() {
		since := metav1.NewTime(req.Since)
		opts.SinceTime = &since
	}
	stream, err := b.client.CoreV1().Pods(t.namespace).GetLogs(pod, opts).Stream(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil
		}
		return nil, b.apiError("read the logs of pod "+pod, err)
	}
	defer stream.Close()
	var lines []sdk.LogLine
	sc := bufio.NewScanner(stream)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		l := parseLogLine(service, pod, sc.Text())
		if emit != nil {
			emit(l)
		} else {
			lines = append(lines, l)
		}
	}
	if err := sc.Err(); err != nil && ctx.Err() == nil && !errors.Is(err, context.Canceled) {
		return lines, b.apiError("read the logs of pod "+pod, err)
	}
	return lines, nil
}

// parseLogLine splits the RFC 3339 timestamp the API server prefixes.
func parseLogLine(service, pod, text string) sdk.LogLine {
	l := sdk.LogLine{Service: service, Replica: pod, Stream: sdk.Stdout, Message: text, Time: time.Now().UTC()}
	if ts, msg, ok := strings.Cut(text, " "); ok {
		if at, err := time.Parse(time.RFC3339Nano, ts); err == nil {
			l.Time, l.Message = at.UTC(), msg
		}
	}
	return l
}
