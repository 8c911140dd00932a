package fakegcp

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"cloud.google.com/go/logging/apiv2/loggingpb"
	"cloud.google.com/go/run/apiv2/runpb"
	"google.golang.org/genproto/googleapis/api/monitoredres"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// logStarted writes the lines Cloud Run logs for each instance of a
// revision that became ready: the instance names are the revision's
// followed by the instance's index.
func (s *Server) logStarted(x *runpb.Service) {
	parts := strings.Split(x.Name, "/")
	project, region, id := parts[1], parts[3], parts[5]
	rev := x.LatestReadyRevision
	port := int32(8080)
	if ps := x.GetTemplate().GetContainers()[0].GetPorts(); len(ps) > 0 {
		port = ps[0].ContainerPort
	}
	for i := range x.GetScaling().GetManualInstanceCount() {
		for _, msg := range []string{"starting " + x.GetTemplate().GetContainers()[0].GetImage(), fmt.Sprintf("listening on :%d", port)} {
			s.seq++
			s.logs = append(s.logs, &loggingpb.LogEntry{
				LogName:   "projects/" + project + "/logs/run.googleapis.com%2Fstdout",
				Resource:  &monitoredres.MonitoredResource{Type: "cloud_run_revision", Labels: map[string]string{"project_id": project, "location": region, "service_name": id, "revision_name": rev}},
				Payload:   &loggingpb.LogEntry_TextPayload{TextPayload: msg},
				Timestamp: timestamppb.Now(), ReceiveTimestamp: timestamppb.Now(),
				InsertId: fmt.Sprintf("e%d", s.seq),
				Labels:   map[string]string{"instanceId": fmt.Sprintf("%s-%d", rev, i)},
			})
		}
	}
}

// Log writes a line of an instance of a service's serving revision, as its
// container would.
func (s *Server) Log(service string, instance int, stream, text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sv := s.services[service]
	if sv == nil {
		return
	}
	parts := strings.Split(service, "/")
	s.seq++
	s.logs = append(s.logs, &loggingpb.LogEntry{
		LogName:   "projects/" + parts[1] + "/logs/run.googleapis.com%2F" + stream,
		Resource:  &monitoredres.MonitoredResource{Type: "cloud_run_revision", Labels: map[string]string{"project_id": parts[1], "location": parts[3], "service_name": parts[5], "revision_name": sv.svc.LatestReadyRevision}},
		Payload:   &loggingpb.LogEntry_TextPayload{TextPayload: text},
		Timestamp: timestamppb.Now(), ReceiveTimestamp: timestamppb.Now(),
		InsertId: fmt.Sprintf("e%d", s.seq),
		Labels:   map[string]string{"instanceId": fmt.Sprintf("%s-%d", sv.svc.LatestReadyRevision, instance)},
	})
}

// term is one comparison of a logging filter: key="value" or key>="value".
type term struct{ key, op, value string }

// parseFilter reads the filters the fake knows: comparisons joined by AND.
func parseFilter(f string) ([]term, error) {
	var out []term
	if strings.TrimSpace(f) == "" {
		return nil, nil
	}
	for t := range strings.SplitSeq(f, " AND ") {
		t = strings.TrimSpace(t)
		op := "="
		i := strings.Index(t, ">=")
		if i >= 0 {
			op = ">="
		} else {
			i = strings.Index(t, "=")
		}
		if i <= 0 || !strings.HasPrefix(t[i+len(op):], `"`) || !strings.HasSuffix(t, `"`) {
			return nil, status.Errorf(codes.InvalidArgument, "fakegcp: filter term %q is not key=\"value\" or key>=\"value\"", t)
		}
		out = append(out, term{t[:i], op, t[i+len(op)+1 : len(t)-1]})
	}
	return out, nil
}

func field(e *loggingpb.LogEntry, key string) string {
	switch {
	case key == "resource.type":
		return e.GetResource().GetType()
	case key == "logName":
		return e.LogName
	case key == "timestamp":
		return e.Timestamp.AsTime().UTC().Format(time.RFC3339Nano)
	case strings.HasPrefix(key, "resource.labels."):
		return e.GetResource().GetLabels()[strings.TrimPrefix(key, "resource.labels.")]
	case strings.HasPrefix(key, "labels."):
		return e.Labels[strings.TrimPrefix(key, "labels.")]
	}
	return ""
}

func matches(e *loggingpb.LogEntry, terms []term) bool {
	for _, t := range terms {
		v := field(e, t.key)
		switch t.op {
		case "=":
			if v != t.value {
				return false
			}
		case ">=":
			if t.key == "timestamp" {
				want, err := time.Parse(time.RFC3339Nano, t.value)
				if err != nil || e.Timestamp.AsTime().Before(want) {
					return false
				}
			} else if v < t.value {
				return false
			}
		}
	}
	return true
}

type loggingServer struct {
	loggingpb.UnimplementedLoggingServiceV2Server
	s *Server
}

func (l *loggingServer) ListLogEntries(_ context.Context, req *loggingpb.ListLogEntriesRequest) (*loggingpb.ListLogEntriesResponse, error) {
	s := l.s
	terms, err := parseFilter(req.Filter)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	var all []*loggingpb.LogEntry
	for _, e := range s.logs {
		if matches(e, terms) && slices.ContainsFunc(req.ResourceNames, func(r string) bool { return strings.HasPrefix(e.LogName, r+"/") }) {
			all = append(all, proto.Clone(e).(*loggingpb.LogEntry))
		}
	}
	key := func(e *loggingpb.LogEntry) string {
		return fmt.Sprintf("%020d/%s", e.Timestamp.AsTime().UnixNano(), e.InsertId)
	}
	switch req.OrderBy {
	case "", "timestamp asc":
	case "timestamp desc":
		key = func(e *loggingpb.LogEntry) string {
			return fmt.Sprintf("%020d/%s", math.MaxInt64-e.Timestamp.AsTime().UnixNano(), e.InsertId)
		}
	default:
		return nil, status.Errorf(codes.InvalidArgument, "order_by %q", req.OrderBy)
	}
	slices.SortStableFunc(all, func(a, b *loggingpb.LogEntry) int { return strings.Compare(key(a), key(b)) })
	items, next, err := page(all, key, req.PageToken, req.PageSize, 50)
	if err != nil {
		return nil, err
	}
	return &loggingpb.ListLogEntriesResponse{Entries: items, NextPageToken: next}, nil
}

// TailLogEntries streams the entries written from the call on that match
// the first request, until the caller ends the stream.
func (l *loggingServer) TailLogEntries(stream loggingpb.LoggingServiceV2_TailLogEntriesServer) error {
	s := l.s
	req, err := stream.Recv()
	if err != nil {
		return err
	}
	terms, err := parseFilter(req.Filter)
	if err != nil {
		return err
	}
	s.mu.Lock()
	next := len(s.logs)
	s.mu.Unlock()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-stream.Context().Done():
			return nil
		case <-tick.C:
		}
		s.mu.Lock()
		s.advance()
		var batch []*loggingpb.LogEntry
		for _, e := range s.logs[next:] {
			if matches(e, terms) {
				batch = append(batch, proto.Clone(e).(*loggingpb.LogEntry))
			}
		}
		next = len(s.logs)
		s.mu.Unlock()
		if len(batch) > 0 {
			if err := stream.Send(&loggingpb.TailLogEntriesResponse{Entries: batch}); err != nil {
				return err
			}
		}
	}
}
