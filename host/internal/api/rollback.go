package api

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/alphaswarm/controller/core/auth"
	"github.com/alphaswarm/controller/host/internal/jobs"
	"github.com/alphaswarm/controller/host/internal/store"
)

// rollbackBody names the revision to go back to; without it, the newest
// succeeded revision before the current one.
type rollbackBody struct {
	Revision *int `json:"revision"`
}

// rollback applies an earlier revision's spec as a new revision, on the
// deployment's current backend, as a job.
func (s *Server) rollback(w http.ResponseWriter, r *http.Request) {
	d, err := s.lookup(r, auth.DeploymentsDeploy, "rollback")
	var body rollbackBody
	if err == nil && r.ContentLength != 0 {
		err = decode(w, r, smallBody, &body)
	}
	var rev *store.Revision
	if err == nil {
		rev, err = s.rollbackTarget(r, d, body.Revision)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	typ, name, _ := strings.Cut(d.Backend, ".")
	spec := rev.Spec
	payload := jobs.Payload{Backend: jobs.Backend{Type: typ, Name: name, Config: d.BackendConfig}, Spec: &spec, SourceHash: rev.SourceHash}
	id, err := s.store.Enqueue(r.Context(), store.NewJob{Deployment: d.Ref, Kind: jobs.KindApply, Payload: payload, CreatedBy: principal(r.Context()).Subject})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	reply(w, http.StatusAccepted, map[string]any{"job": id, "deployment": d.Ref, "revision": rev.Number})
}

func (s *Server) rollbackTarget(r *http.Request, d *store.Deployment, want *int) (*store.Revision, error) {
	if want != nil {
		rev, err := s.store.Revision(r.Context(), d.Ref, *want)
		if errors.Is(err, store.ErrNotFound) {
			return nil, &apiError{status: http.StatusNotFound, field: "revision", detail: fmt.Sprintf("deployment %s has no revision %d", d.Ref.Name, *want)}
		}
		return rev, err
	}
	revs, err := s.store.Revisions(r.Context(), d.Ref)
	if err != nil {
		return nil, err
	}
	for i := len(revs) - 1; i >= 0; i-- {
		if revs[i].Number < d.Revision && revs[i].Outcome == "succeeded" {
			return &revs[i], nil
		}
	}
	return nil, &apiError{status: http.StatusConflict, field: "revision", detail: fmt.Sprintf("deployment %s has no succeeded revision before %d to roll back to", d.Ref.Name, d.Revision)}
}
