package api

import (
	"net/http"
	"strconv"

	"github.com/alphaswarm/controller/core/auth"
	"github.com/alphaswarm/controller/host/internal/api/wire"
	"github.com/alphaswarm/controller/host/internal/topology"
	"github.com/alphaswarm/controller/sdk/pluginhost"
)

// backends lists the registered backends granted to the caller's tenant,
// with their plugins' versions and capabilities and whether each starts.
func (s *Server) backends(w http.ResponseWriter, r *http.Request) {
	p := principal(r.Context())
	if err := s.allow(r, p, auth.BackendsRead, "list backends", "", p.AuthorizeGlobal(auth.BackendsRead)); err != nil {
		s.fail(w, r, err)
		return
	}
	out := []wire.Backend{}
	for _, b := range s.registry.List() {
		granted, envs := b.GrantedTo(p.Tenant)
		if !granted {
			continue
		}
		v := wire.Backend{ID: b.ID(), Type: b.Type, Name: b.Name, Environments: envs, Health: "ok", Settable: []string{}}
		part := topology.TenantPart(b.Schema())
		for _, a := range part.Attributes {
			v.Settable = append(v.Settable, a.Name)
		}
		for _, blk := range part.Blocks {
			v.Settable = append(v.Settable, blk.Name)
		}
		if info, err := s.describe(r, b.Type); err != nil {
			_, v.Health = status(err)
		} else {
			v.Version, v.Protocol, v.Capabilities = info.Version, info.Protocol, info.Capabilities
		}
		out = append(out, v)
	}
	reply(w, http.StatusOK, wire.BackendList{Backends: out})
}

// describe returns what the plugin of a backend type says of itself.
func (s *Server) describe(r *http.Request, plugin string) (pluginhost.Info, error) {
	pl, err := s.plugins.Plugin(plugin)
	if err != nil {
		return pluginhost.Info{}, err
	}
	return s.plugins.Describe(r.Context(), pl)
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
	out := []wire.AuditEntry{}
	for _, e := range entries {
		out = append(out, wire.AuditEntry(e))
	}
	reply(w, http.StatusOK, wire.AuditList{Entries: out})
}
