package wire_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/host/internal/api/wire"
)

// TestEncoding pins the bytes of documents whose members are optional or
// whose order was once a map's, so that the API's answers stay as clients
// have been reading them.
func TestEncoding(t *testing.T) {
	t.Parallel()
	ref := core.DeploymentRef{Tenant: "acme", Environment: "prod", Name: "web"}
	at := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	two := 2
	for _, tc := range []struct {
		doc  any
		want string
	}{
		{wire.OperationAccepted{Deployment: ref, Job: 7}, `{"deployment":{"tenant":"acme","environment":"prod","name":"web"},"job":7}`},
		{wire.NodesResponse{Backend: "memory.sim", Nodes: []core.NodeHealth{}}, `{"backend":"memory.sim","nodes":[]}`},
		{wire.Job{ID: 7, Deployment: ref, Kind: wire.OpRollback.JobKind(), State: wire.JobQueued, CreatedBy: "alice", Created: at},
			`{"id":7,"deployment":{"tenant":"acme","environment":"prod","name":"web"},"kind":"apply","state":"queued","attempts":0,"created_by":"alice","created":"2026-12-07T09:00:00Z"}`},
		{wire.Deployment{Tenant: "acme", Environment: "prod", Name: "web", Backend: "memory.sim", Revision: 1, Incarnation: 1, Created: at, Updated: at},
			`{"tenant":"acme","environment":"prod","name":"web","backend":"memory.sim","revision":1,"incarnation":1,"created":"2026-12-07T09:00:00Z","updated":"2026-12-07T09:00:00Z"}`},
		{wire.Problem{Type: "about:blank", Title: "Bad Request", Status: 400}, `{"type":"about:blank","title":"Bad Request","status":400}`},
		{wire.Diagnostic{Severity: "error", Summary: "Unsupported argument"}, `{"severity":"error","summary":"Unsupported argument"}`},
		{wire.ExecControl{Type: wire.ControlExit}, `{"type":"exit","code":0}`},
		{wire.ExecControl{Type: wire.ControlResize, Rows: 24, Cols: 80}, `{"type":"resize","rows":24,"cols":80,"code":0}`},
		{wire.StreamError{Error: "gone"}, `{"error":"gone"}`},
		{wire.TopologyRequest{Files: map[string]string{"main.hcl": ""}}, `{"files":{"main.hcl":""}}`},
		{wire.OperationRequest{}, `{}`},
		{wire.OperationRequest{Service: "api", Replicas: &two}, `{"service":"api","replicas":2}`},
		{wire.RollbackRequest{Revision: &two}, `{"revision":2}`},
	} {
		got, err := json.Marshal(tc.doc)
		if err != nil || string(got) != tc.want {
			t.Errorf("%T encodes as %s (%v), want %s", tc.doc, got, err, tc.want)
		}
	}
}

func TestOpNames(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		op          wire.Op
		kind        wire.Op
		auditAction string
	}{
		{wire.OpPlan, "", "plan"},
		{wire.OpApply, "apply", "apply"},
		{wire.OpRollback, "apply", "rollback"}, // rollback jobs have always been stored as apply
		{wire.OpDestroy, "destroy", "destroy"},
		{wire.OpRestart, "restart", "restart"},
		{wire.OpStart, "start", "start"},
		{wire.OpStop, "stop", "stop"},
		{wire.OpScale, "scale", "scale"},
		{wire.OpLogs, "", "read logs"}, // as the audit log has always recorded it
		{wire.OpExec, "", "exec"},
	} {
		if got := tc.op.JobKind(); got != tc.kind {
			t.Errorf("%s: job kind %q, want %q", tc.op, got, tc.kind)
		}
		if got := tc.op.AuditAction(); got != tc.auditAction {
			t.Errorf("%s: audit action %q, want %q", tc.op, got, tc.auditAction)
		}
	}
}
