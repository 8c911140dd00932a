package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/alphaswarm/controller/host/internal/api/wire"
)

// TestRollbackTarget picks what rollback applies from a history newest
// first: the newest succeeded revision of the current incarnation before
// the current one, never a destroyed incarnation's unless named.
func TestRollbackTarget(t *testing.T) {
	t.Parallel()
	destroyed := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	rev := func(n, inc int, outcome string, gone bool) wire.Revision {
		r := wire.Revision{Number: n, Incarnation: inc, Outcome: outcome}
		if gone {
			r.DestroyedAt = &destroyed
		}
		return r
	}
	detail := func(current, inc int, revs ...wire.Revision) *wire.DeploymentDetail {
		d := &wire.DeploymentDetail{Revisions: revs}
		d.Tenant, d.Name, d.Revision, d.Incarnation = "acme", "web", current, inc
		return d
	}
	for _, tc := range []struct {
		name    string
		d       *wire.DeploymentDetail
		want    int
		wantErr string
	}{
		{"the newest earlier succeeded one", detail(4, 1, rev(4, 1, "succeeded", false), rev(3, 1, "failed", false), rev(2, 1, "succeeded", false), rev(1, 1, "succeeded", false)), 2, ""},
		{"not across a destroy", detail(3, 2, rev(3, 2, "succeeded", false), rev(2, 1, "succeeded", true), rev(1, 1, "succeeded", true)), 0, "revisions up to 2 belong to an incarnation destroyed at"},
		{"nothing earlier", detail(1, 1, rev(1, 1, "succeeded", false)), 0, "no succeeded revision before the current one to roll back to"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := rollbackTarget(tc.d, 0)
			switch {
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("error %v, want one containing %q", err, tc.wantErr)
			case tc.wantErr == "" && (err != nil || got.Number != tc.want):
				t.Errorf("target %+v, %v; want revision %d", got, err, tc.want)
			}
		})
	}
	named, err := rollbackTarget(detail(3, 2, rev(3, 2, "succeeded", false), rev(1, 1, "succeeded", true)), 1)
	if err != nil || named.Number != 1 {
		t.Errorf("a named revision of a destroyed incarnation: %+v, %v", named, err)
	}
}
