package api

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/alphaswarm/controller/core/auth"
	"github.com/alphaswarm/controller/host/internal/api/wire"
	"github.com/alphaswarm/controller/host/internal/jobs"
	"github.com/alphaswarm/controller/host/internal/store"
)

// rollback applies an earlier revision's spec as a new revision, on the
// deployment's current backend, as a job. It crosses into a destroyed
// incarnation only when the revision is named, and its answer says so.
func (s *Server) rollback(w http.ResponseWriter, r *http.Request) {
	d, err := s.lookup(r, auth.DeploymentsDeploy, wire.OpRollback.AuditAction())
	var body wire.RollbackRequest
	if err == nil && r.ContentLength != 0 {
		err = s.decode(w, r, smallBody, &body)
	}
	var rev *store.Revision
	if err == nil {
		rev, err = s.rollbackTarget(r, d, body.Revision)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	backend, err := s.deploymentBackend(d)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	spec := rev.Spec
	payload := jobs.Payload{Backend: backend, Spec: &spec, SourceHash: rev.SourceHash}
	id, err := s.store.Enqueue(r.Context(), store.NewJob{Deployment: d.Ref, Kind: string(wire.OpRollback.JobKind()), Payload: payload, CreatedBy: principal(r.Context()).Subject})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := wire.RollbackAccepted{Job: id, Deployment: d.Ref, Revision: rev.Number}
	if rev.Incarnation != d.Incarnation {
		out.Note = fmt.Sprintf("revision %d belongs to incarnation %d of %s, destroyed at %s by %s; its spec is applied as a new revision of incarnation %d",
			rev.Number, rev.Incarnation, d.Ref, rev.DestroyedAt.Format(time.RFC3339), orUnknown(rev.DestroyedBy), d.Incarnation)
	}
	reply(w, http.StatusAccepted, out)
}

func orUnknown(s string) string {
	if s == "" {
		return "an unrecorded user"
	}
	return s
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
	if rev := previousRevision(revs, d.Revision, d.Incarnation); rev != nil {
		return rev, nil
	}
	detail := fmt.Sprintf("deployment %s has no succeeded revision before %d to roll back to", d.Ref.Name, d.Revision)
	if older := olderIncarnation(revs, d.Incarnation); older != nil {
		detail += fmt.Sprintf(" in its current incarnation; revisions up to %d belong to an incarnation destroyed at %s: name one with revision to roll back to it",
			older.Number, older.DestroyedAt.Format(time.RFC3339))
	}
	return nil, &apiError{status: http.StatusConflict, field: "revision", detail: detail}
}

// previousRevision is the newest succeeded revision of incarnation before
// current, among revs (newest first), or nil.
func previousRevision(revs []store.Revision, current, incarnation int) *store.Revision {
	for i := range revs {
		if r := &revs[i]; r.Number < current && r.Incarnation == incarnation && r.Outcome == "succeeded" {
			return r
		}
	}
	return nil
}

// olderIncarnation is the newest revision of an incarnation before the
// current one, or nil.
func olderIncarnation(revs []store.Revision, incarnation int) *store.Revision {
	for i := range revs {
		if revs[i].Incarnation < incarnation {
			return &revs[i]
		}
	}
	return nil
}
