package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/alphaswarm/controller/core/auth"
	"github.com/alphaswarm/controller/sdk"
)

// backendView is one installed plugin. Paths on the host are not shown.
type backendView struct {
	Name         string           `json:"name"`
	Version      string           `json:"version"`
	Protocol     int              `json:"protocol"`
	Capabilities sdk.Capabilities `json:"capabilities"`
	Health       string           `json:"health"` // "ok" or why not
	Dev          bool             `json:"dev"`
}

// backends lists the installed plugins, their versions and capabilities,
// and whether each starts and answers.
func (s *Server) backends(w http.ResponseWriter, r *http.Request) {
	p := principal(r.Context())
	if err := s.allow(r, p, auth.BackendsRead, "list backends", "", p.AuthorizeGlobal(auth.BackendsRead)); err != nil {
		s.fail(w, r, err)
		return
	}
	out := []backendView{}
	for _, pl := range s.plugins.Plugins() {
		v := backendView{Name: pl.Name, Version: pl.Version, Dev: pl.Dev, Health: "ok"}
		info, err := s.plugins.Describe(r.Context(), pl)
		if err != nil {
			_, v.Health = status(err)
		} else {
			v.Version, v.Protocol, v.Capabilities = info.Version, info.Protocol, info.Capabilities
		}
		out = append(out, v)
	}
	reply(w, http.StatusOK, map[string]any{"backends": out})
}

// auditView is one audit entry.
type auditView struct {
	At        time.Time `json:"at"`
	Actor     string    `json:"actor"`
	Tenant    string    `json:"tenant"`
	Action    string    `json:"action"`
	Target    string    `json:"target"`
	Decision  string    `json:"decision"`
	Reason    string    `json:"reason,omitempty"`
	RequestID string    `json:"request_id"`
}

// auditLog lists the caller's tenant's audit entries, newest first.
func (s *Server) auditLog(w http.ResponseWriter, r *http.Request) {
	p := principal(r.Context())
	if err := s.allow(r, p, auth.AuditRead, "read audit", "", p.AuthorizeGlobal(auth.AuditRead)); err != nil {
		s.fail(w, r, err)
		return
	}
	limit := 100
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			s.fail(w, r, badRequest("limit", "limit %q is not in 1..1000", v))
			return
		}
		limit = n
	}
	entries, err := s.store.Audit(r.Context(), []string{p.Tenant}, limit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := []auditView{}
	for _, e := range entries {
		out = append(out, auditView(e))
	}
	reply(w, http.StatusOK, map[string]any{"entries": out})
}
