package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/mux"

	"github.com/alphaswarm/controller/core/auth"
	"github.com/alphaswarm/controller/host/internal/api/wire"
	"github.com/alphaswarm/controller/host/internal/store"
)

// viewJob is a job as the API shows it; its payload stays inside.
func viewJob(j *store.Job) wire.Job {
	return wire.Job{ID: j.ID, Deployment: j.Deployment, Kind: wire.Op(j.Kind), State: string(j.State), Attempts: j.Attempts, Error: j.Error,
		CreatedBy: j.CreatedBy, Created: j.Created, Started: j.Started, Finished: j.Finished}
}

func finished(st store.JobState) bool {
	return st == store.JobSucceeded || st == store.JobFailed || st == store.JobCancelled
}

// job reads the job the route names, if the caller may read its deployment.
func (s *Server) job(r *http.Request) (*store.Job, error) {
	raw := mux.Vars(r)["id"]
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return nil, badRequest("id", "job id %q is not a positive integer", raw)
	}
	j, err := s.store.Job(r.Context(), id)
	if err != nil {
		return nil, err
	}
	p := principal(r.Context())
	d := p.Authorize(auth.DeploymentsRead, j.Deployment.Tenant, j.Deployment.Environment)
	if err := s.allow(r, p, auth.DeploymentsRead, "read job", fmt.Sprintf("job %d", id), d); err != nil {
		if d.Status == http.StatusNotFound {
			return nil, notFound("job %d not found", id) // the same answer as a job that does not exist
		}
		return nil, err
	}
	return j, nil
}

func (s *Server) getJob(w http.ResponseWriter, r *http.Request) {
	j, err := s.job(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	reply(w, http.StatusOK, viewJob(j))
}

// jobEvents streams a job's events as server-sent events until it ends:
// "progress" per event (id = its sequence number, so a client resumes with
// Last-Event-ID), then one "end" with the job.
func (s *Server) jobEvents(w http.ResponseWriter, r *http.Request) {
	j, err := s.job(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	after, _ := strconv.Atoi(r.Header.Get("Last-Event-ID"))
	sse := startSSE(w)
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	beat := time.NewTicker(s.heartbeat)
	defer beat.Stop()
	for {
		events, last, err := s.store.Events(r.Context(), j.ID, after)
		if err != nil {
			sse.send(wire.EventError, "", wire.StreamError{Error: err.Error()})
			return
		}
		for i, e := range events {
			sse.send(wire.EventProgress, strconv.Itoa(last-len(events)+1+i), e)
		}
		after = last
		if finished(j.State) && len(events) == 0 {
			sse.send(wire.EventEnd, "", viewJob(j))
			return
		}
		select {
		case <-r.Context().Done():
			return
		case <-beat.C:
			sse.comment("keep-alive")
		case <-tick.C:
		}
		if j, err = s.store.Job(r.Context(), j.ID); err != nil {
			return
		}
	}
}

// sseWriter writes server-sent events, flushing each.
type sseWriter struct {
	w        http.ResponseWriter
	rc       *http.ResponseController
	buffered bool // leave flushing to the server until the end
}

func startSSE(w http.ResponseWriter) *sseWriter {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	s := &sseWriter{w: w, rc: http.NewResponseController(w)}
	s.rc.Flush()
	return s
}

func (s *sseWriter) send(event, id string, v any) error {
	b, _ := json.Marshal(v)
	if id != "" {
		fmt.Fprintf(s.w, "id: %s\n", id)
	}
	if _, err := fmt.Fprintf(s.w, "event: %s\ndata: %s\n\n", event, b); err != nil || s.buffered {
		return err
	}
	return s.rc.Flush()
}

func (s *sseWriter) comment(text string) {
	fmt.Fprintf(s.w, ": %s\n\n", text)
	s.rc.Flush()
}
