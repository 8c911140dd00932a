package azure

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/sdk"
)

// maxTailLines is the most history lines the log stream endpoint gives.
const maxTailLines = 300

// logStream is one replica container's log stream endpoint, with the app's
// auth token.
type logStream struct {
	service, replica string
	endpoint, token  string
}

// Logs reads each replica's console log from the log stream endpoint
// Azure gives for its container, with the app's auth token (getAuthtoken):
// history with tail, merged by time, then with Follow the new lines of
// every replica until ctx ends.
func (b *Backend) Logs(ctx context.Context, req *sdk.LogsRequest, send sdk.LogSender) error {
	if b.cl == nil {
		return errNotConfigured
	}
	st, err := decodeState(req.State)
	if err != nil {
		return err
	}
	svcs, err := services(st, req.Deployment, req.Service)
	if err != nil {
		return err
	}
	var streams []logStream
	for _, svc := range svcs {
		s, err := b.logStreams(ctx, req.Deployment, svc, req.Replica)
		if err != nil {
			return err
		}
		streams = append(streams, s...)
	}
	tail := req.Tail
	if tail <= 0 || tail > maxTailLines {
		tail = maxTailLines
	}
	history := make([][]sdk.LogLine, len(streams))
	for i, s := range streams {
		if history[i], err = b.readLog(ctx, s, tail, false, nil); err != nil {
			return err
		}
	}
	if err := sdk.SendLogs(send, sdk.MergeLogHistory(history, req.Tail, req.Since)); err != nil {
		return err
	}
	if !req.Follow {
		return nil
	}
	return b.follow(ctx, streams, history, send)
}

// follow streams the new lines of every replica to send, one at a time,
// until ctx ends (then it returns nil) or send fails.
func (b *Backend) follow(ctx context.Context, streams []logStream, history [][]sdk.LogLine, send sdk.LogSender) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	lines := make(chan sdk.LogLine)
	var wg sync.WaitGroup
	for i, s := range streams {
		var after time.Time
		if h := history[i]; len(h) > 0 {
			after = h[len(h)-1].Time
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = b.readLog(ctx, s, 1, true, func(l sdk.LogLine) bool {
				if !l.Time.After(after) {
					return true
				}
				select {
				case lines <- l:
					return true
				case <-ctx.Done():
					return false
				}
			})
		}()
	}
	go func() { wg.Wait(); close(lines) }()
	for {
		select {
		case <-ctx.Done():
			return nil
		case l, ok := <-lines:
			if !ok {
				<-ctx.Done()
				return nil
			}
			if err := send(l); err != nil {
				return err
			}
		}
	}
}

// logStreams finds the log stream endpoints of a service's replicas (of
// one replica when replica is set) and the app's auth token.
func (b *Backend) logStreams(ctx context.Context, ref core.DeploymentRef, svc, replica string) ([]logStream, error) {
	reps, token, err := b.liveReplicas(ctx, ref, svc)
	if err != nil {
		return nil, err
	}
	var out []logStream
	found := false
	for _, r := range reps {
		if r.Name == nil || r.Properties == nil || replica != "" && *r.Name != replica {
			continue
		}
		found = true
		for _, c := range r.Properties.Containers {
			if c.LogStreamEndpoint == nil || c.Name == nil || *c.Name != containerName {
				continue
			}
			u, err := url.Parse(*c.LogStreamEndpoint)
			if err != nil || u.Scheme != "https" || u.Host == "" {
				return nil, fmt.Errorf("read logs of replica %s: Azure gave a log stream endpoint that is not https", *r.Name)
			}
			out = append(out, logStream{service: svc, replica: *r.Name, endpoint: *c.LogStreamEndpoint, token: token})
		}
	}
	if replica != "" && !found {
		return nil, sdk.NotFound("replica %q of service %s", replica, svc)
	}
	return out, nil
}

// readLog reads a log stream: with each, line by line until it returns
// false or the stream ends; without, it returns the lines.
func (b *Backend) readLog(ctx context.Context, s logStream, tail int, follow bool, each func(sdk.LogLine) bool) ([]sdk.LogLine, error) {
	u, _ := url.Parse(s.endpoint)
	q := u.Query()
	q.Set("tailLines", strconv.Itoa(tail))
	q.Set("follow", strconv.FormatBool(follow))
	q.Set("output", "json")
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("read logs of replica %s: %w", s.replica, err)
	}
	req.Header.Set("Authorization", "Bearer "+s.token)
	resp, err := b.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("read logs of replica %s: %w", s.replica, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("read logs of replica %s: the log stream answered %s", s.replica, resp.Status)
	}
	var out []sdk.LogLine
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		l, ok := parseLogLine(sc.Text())
		if !ok {
			continue
		}
		l.Service, l.Replica = s.service, s.replica
		if each != nil {
			if !each(l) {
				return nil, nil
			}
			continue
		}
		out = append(out, l)
	}
	if err := sc.Err(); err != nil && ctx.Err() == nil {
		return out, fmt.Errorf("read logs of replica %s: %w", s.replica, err)
	}
	return out, nil
}

// parseLogLine reads one line of the log stream: a JSON object with
// TimeStamp and Log (output=json), or "<RFC 3339 time> <message>" text.
// The stream does not tell stdout from stderr: lines are stdout.
func parseLogLine(raw string) (sdk.LogLine, bool) {
	raw = strings.TrimRight(raw, "\r")
	if raw == "" {
		return sdk.LogLine{}, false
	}
	var j struct {
		TimeStamp string `json:"TimeStamp"`
		Log       string `json:"Log"`
	}
	if json.Unmarshal([]byte(raw), &j) == nil && j.TimeStamp != "" {
		t, err := time.Parse(time.RFC3339Nano, j.TimeStamp)
		if err != nil {
			return sdk.LogLine{}, false
		}
		return sdk.LogLine{Time: t.UTC(), Stream: sdk.Stdout, Message: j.Log}, true
	}
	ts, msg, _ := strings.Cut(raw, " ")
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return sdk.LogLine{Time: time.Now().UTC(), Stream: sdk.Stdout, Message: raw}, true
	}
	return sdk.LogLine{Time: t.UTC(), Stream: sdk.Stdout, Message: msg}, true
}
