package gcp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"cloud.google.com/go/logging/apiv2/loggingpb"
	"google.golang.org/api/iterator"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/alphaswarm/controller/sdk"
)

var _ sdk.LogStreamer = (*Backend)(nil)

// maxHistory bounds the lines one Logs call reads back per service when
// it asks for no tail.
const maxHistory = 5000

// tailInstances: with a tail (per instance), a Logs call reads back the
// tail of this many instances' lines.
const tailInstances = 50

// logFilter selects the Cloud Logging entries of one Cloud Run service's
// revisions, and of one instance when replica is set. The names are the
// plugin's own and the replica is quoted, so a tenant's value cannot widen
// the filter.
func (b *Backend) logFilter(serviceID, replica string, since time.Time) string {
	f := fmt.Sprintf(`resource.type="cloud_run_revision" AND resource.labels.service_name=%q AND resource.labels.location=%q`, serviceID, b.cfg.Region)
	if replica != "" {
		f += fmt.Sprintf(` AND labels.instanceId=%q`, replica)
	}
	if !since.IsZero() {
		f += fmt.Sprintf(` AND timestamp>=%q`, since.UTC().Format(time.RFC3339Nano))
	}
	return f
}

// Logs sends the lines Cloud Run's services wrote to Cloud Logging: the
// history by filter on the service's revisions (tail and since applied per
// instance), then, with Follow, new lines through TailLogEntries until the
// context ends. Replicas are Cloud Run's instance IDs.
func (b *Backend) Logs(ctx context.Context, req *sdk.LogsRequest, send sdk.LogSender) error {
	if req.Replica != "" && strings.ContainsAny(req.Replica, "\"\\\n") {
		return sdk.NotFound("replica %q", req.Replica)
	}
	_, t, services, err := b.operation(ctx, req.Deployment, req.State, req.Service)
	if err != nil {
		return err
	}
	names := slices.Sorted(maps.Keys(services))
	var history [][]sdk.LogLine
	for _, name := range names {
		lines, err := b.history(ctx, name, t.serviceID(name), req)
		if err != nil {
			return err
		}
		history = append(history, lines...)
	}
	if err := sdk.SendLogs(send, sdk.MergeLogHistory(history, req.Tail, req.Since)); err != nil || !req.Follow {
		return err
	}
	return b.follow(ctx, t, names, req, send)
}

// history reads one service's entries, newest first, and returns them per
// instance in the order they were written.
func (b *Backend) history(ctx context.Context, service, serviceID string, req *sdk.LogsRequest) ([][]sdk.LogLine, error) {
	limit := maxHistory
	if req.Tail > 0 {
		limit = min(maxHistory, req.Tail*tailInstances)
	}
	it := b.logging.ListLogEntries(ctx, &loggingpb.ListLogEntriesRequest{
		ResourceNames: []string{"projects/" + b.cfg.Project},
		Filter:        b.logFilter(serviceID, req.Replica, req.Since),
		OrderBy:       "timestamp desc",
		PageSize:      int32(min(limit, 1000)),
	})
	byReplica := map[string][]sdk.LogLine{}
	for n := 0; n < limit; n++ {
		e, err := it.Next()
		if err == iterator.Done {
			break
		}
		if err != nil {
			return nil, b.apiError(ctx, "read the logs of service "+service, err)
		}
		l := line(service, e)
		byReplica[l.Replica] = append(byReplica[l.Replica], l)
	}
	var out [][]sdk.LogLine
	for _, r := range slices.Sorted(maps.Keys(byReplica)) {
		lines := byReplica[r]
		slices.Reverse(lines)
		out = append(out, lines)
	}
	return out, nil
}

// line turns an entry into a log line.
func line(service string, e *loggingpb.LogEntry) sdk.LogLine {
	l := sdk.LogLine{Time: e.GetTimestamp().AsTime().UTC(), Service: service, Replica: e.Labels["instanceId"], Stream: sdk.Stdout}
	if strings.HasSuffix(e.LogName, "%2Fstderr") || strings.HasSuffix(e.LogName, "/stderr") {
		l.Stream = sdk.Stderr
	}
	switch {
	case e.GetTextPayload() != "":
		l.Message = strings.TrimRight(e.GetTextPayload(), "\n")
	case e.GetJsonPayload() != nil:
		if m, ok := e.GetJsonPayload().AsMap()["message"].(string); ok {
			l.Message = m
		} else {
			b, _ := e.GetJsonPayload().MarshalJSON()
			l.Message = string(b)
		}
	}
	if l.Replica == "" {
		l.Replica = e.GetResource().GetLabels()["revision_name"]
	}
	return l
}

// follow streams new entries of the services, one TailLogEntries stream
// each, until ctx ends, which is no error.
func (b *Backend) follow(ctx context.Context, t target, names []string, req *sdk.LogsRequest, send sdk.LogSender) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var mu sync.Mutex
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Go(func() {
			errs[i] = b.followOne(ctx, name, t.serviceID(name), req.Replica, func(l sdk.LogLine) error {
				mu.Lock()
				defer mu.Unlock()
				return send(l)
			})
			if errs[i] != nil {
				cancel()
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (b *Backend) followOne(ctx context.Context, service, serviceID, replica string, send sdk.LogSender) error {
	stream, err := b.logging.TailLogEntries(ctx)
	if err != nil {
		return b.followError(ctx, err)
	}
	filter := b.logFilter(serviceID, replica, time.Time{})
	if err := stream.Send(&loggingpb.TailLogEntriesRequest{ResourceNames: []string{"projects/" + b.cfg.Project}, Filter: filter}); err != nil {
		return b.followError(ctx, err)
	}
	for {
		resp, err := stream.Recv()
		if err != nil {
			return b.followError(ctx, err)
		}
		for _, e := range resp.Entries {
			if e.GetResource().GetLabels()["service_name"] != serviceID {
				continue
			}
			if err := send(line(service, e)); err != nil {
				return err
			}
		}
	}
}

// followError: the caller ending the stream is no error.
func (b *Backend) followError(ctx context.Context, err error) error {
	if ctx.Err() != nil || errors.Is(err, io.EOF) || status.Code(err) == codes.Canceled {
		return nil
	}
	return b.apiError(ctx, "follow the logs", err)
}
