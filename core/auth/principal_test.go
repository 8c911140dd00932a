package auth_test

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/alphaswarm/controller/core/auth"
)

func TestAuthorize(t *testing.T) {
	t.Parallel()
	p := &auth.Principal{Tenant: "acme", Environments: []string{"prod"}, Permissions: []auth.Permission{auth.DeploymentsRead}}
	all := &auth.Principal{Tenant: "acme", Environments: []string{auth.AllEnvironments}, Permissions: auth.AllPermissions()}
	tests := []struct {
		name   string
		got    auth.Decision
		status int
	}{
		{"read own", p.Authorize(auth.DeploymentsRead, "acme", "prod"), 0},
		{"destroy own without permission", p.Authorize(auth.DeploymentsDestroy, "acme", "prod"), http.StatusForbidden},
		{"read other tenant", p.Authorize(auth.DeploymentsRead, "globex", "prod"), http.StatusNotFound},
		{"read other environment", p.Authorize(auth.DeploymentsRead, "acme", "staging"), http.StatusNotFound},
		{"apply into other tenant", p.AuthorizeCreate(auth.DeploymentsRead, "globex", "prod"), http.StatusForbidden},
		{"apply into other environment", p.AuthorizeCreate(auth.DeploymentsRead, "acme", "dev"), http.StatusForbidden},
		{"audit without permission", p.AuthorizeGlobal(auth.AuditRead), http.StatusForbidden},
		{"all environments", all.Authorize(auth.DeploymentsExec, "acme", "anything"), 0},
		{"all permissions, other tenant", all.Authorize(auth.DeploymentsRead, "globex", "prod"), http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.got.Allowed != (tt.status == 0) || tt.got.Status != tt.status {
				t.Errorf("got %+v, want status %d", tt.got, tt.status)
			}
			if !tt.got.Allowed && tt.got.Reason == "" {
				t.Error("a denial without a reason")
			}
		})
	}
}

func TestFilter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		envs []string
		want auth.Filter
	}{
		{[]string{"prod", "staging"}, auth.Filter{Tenants: []string{"acme"}, Environments: []string{"prod", "staging"}}},
		{[]string{auth.AllEnvironments}, auth.Filter{Tenants: []string{"acme"}}},
		{nil, auth.Filter{Tenants: []string{"acme"}, Environments: []string{}}},
	}
	for _, tt := range tests {
		got := (&auth.Principal{Tenant: "acme", Environments: tt.envs}).Filter()
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("envs %v (-want +got):\n%s", tt.envs, diff)
		}
	}
}

func TestParsePermissions(t *testing.T) {
	t.Parallel()
	got, err := auth.ParsePermissions("deployments:read, audit:read")
	if err != nil || !cmp.Equal(got, []auth.Permission{auth.DeploymentsRead, auth.AuditRead}) {
		t.Errorf("got %v, %v", got, err)
	}
	if all, _ := auth.ParsePermissions("all"); len(all) != 9 {
		t.Errorf("all = %v", all)
	}
	if _, err := auth.ParsePermissions("deployments:nuke"); err == nil {
		t.Error("an unknown permission was accepted")
	}
}
