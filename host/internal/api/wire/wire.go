package wire

import (
	"fmt"
	"strings"
	"time"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/sdk"
)

// Problem is an RFC 9457 problem document, the body of every error
// answer. Field names the request field at fault, as a JSON path
// ("replicas", "files[main.hcl]") or a path or query parameter ("name",
// "tail").
type Problem struct {
	Type        string       `json:"type"`
	Title       string       `json:"title"`
	Status      int          `json:"status"`
	Detail      string       `json:"detail,omitempty"`
	Field       string       `json:"field,omitempty"`
	RequestID   string       `json:"request_id,omitempty"`
	Diagnostics []Diagnostic `json:"diagnostics,omitempty"`
}

// Diagnostic is a topology diagnostic with its source position.
type Diagnostic struct {
	Severity string `json:"severity"` // "error" or "warning"
	Summary  string `json:"summary"`
	Detail   string `json:"detail,omitempty"`
	File     string `json:"file,omitempty"`
	Line     int    `json:"line,omitempty"`
	Column   int    `json:"column,omitempty"`
}

// String is the diagnostic as swarmctl prints it:
// "Error: main.hcl:3,5: Summary; detail".
func (d Diagnostic) String() string {
	at := ""
	if d.File != "" {
		at = fmt.Sprintf("%s:%d,%d: ", d.File, d.Line, d.Column)
	}
	sev := d.Severity
	if sev != "" {
		sev = strings.ToUpper(sev[:1]) + sev[1:]
	}
	s := fmt.Sprintf("%s: %s%s", sev, at, d.Summary)
	if d.Detail != "" {
		s += "; " + d.Detail
	}
	return s
}

// TopologyRequest is the body of plan and apply: the topology files by
// name, variable values as HCL expressions (as -var takes them), and for
// apply the hash of the reviewed plan.
type TopologyRequest struct {
	Files     map[string]string `json:"files"`
	Variables map[string]string `json:"variables,omitempty"`
	PlanHash  string            `json:"plan_hash,omitempty"`
}

// PlanResult is the answer to plan, and the part of apply's answer that
// says what was planned.
type PlanResult struct {
	Plans       []DeploymentPlan `json:"plans"`
	Diagnostics []Diagnostic     `json:"diagnostics"`
	// Hash identifies this plan: apply with it applies only this plan.
	Hash       string `json:"plan_hash"`
	SourceHash string `json:"source_hash"`
}

// ApplyResult is the answer to apply: the plan, and the jobs queued.
type ApplyResult struct {
	PlanResult
	Jobs []QueuedJob `json:"jobs"`
}

// QueuedJob names a job apply queued.
type QueuedJob struct {
	ID         int64              `json:"id"`
	Deployment core.DeploymentRef `json:"deployment"`
}

// DeploymentPlan is the plan of one deployment.
type DeploymentPlan struct {
	Tenant        string                  `json:"tenant"`
	Environment   string                  `json:"environment"`
	Deployment    string                  `json:"deployment"`
	Backend       string                  `json:"backend"`
	Services      []sdk.ServiceChange     `json:"services"`
	Compatibility []sdk.CompatibilityNote `json:"compatibility,omitempty"`
	// Skipped says why there is no plan (the plugin is not installed).
	Skipped string `json:"skipped,omitempty"`
	// Record is what apply writes on the controller whatever the backend
	// has to change (a plan made against the controller sets it; a local
	// one leaves it empty).
	Record RecordChange `json:"record,omitempty"`
}

// RecordChange is what apply does to the controller's record of a
// deployment.
type RecordChange string

// The record changes.
const (
	// RecordNone: the record matches the plan.
	RecordNone RecordChange = ""
	// RecordNew: the controller holds no record of the deployment (never
	// applied, destroyed, or applied by a host that stopped before it
	// recorded it). Apply records it, adopting what the backend runs with
	// this deployment's labels.
	RecordNew RecordChange = "new"
	// RecordUpdate: the recorded spec or backend differs from the plan's,
	// even if the backend has nothing to change; apply records a new
	// revision.
	RecordUpdate RecordChange = "update"
)

// RecordOnly reports whether applying the plan changes the controller's
// record and nothing on the backend.
func (p *DeploymentPlan) RecordOnly() bool {
	c, u, d := p.Changes()
	return p.Record != RecordNone && c+u+d == 0
}

// Changes counts the services the plan creates, updates and deletes.
func (p *DeploymentPlan) Changes() (create, update, del int) {
	for _, c := range p.Services {
		switch c.Action {
		case sdk.ActionCreate:
			create++
		case sdk.ActionUpdate:
			update++
		case sdk.ActionDelete:
			del++
		}
	}
	return
}

// Deployment is a deployment as listed.
type Deployment struct {
	Tenant       string                 `json:"tenant"`
	Environment  string                 `json:"environment"`
	Name         string                 `json:"name"`
	Backend      string                 `json:"backend"`
	Revision     int                    `json:"revision"`
	Incarnation  int                    `json:"incarnation"`
	Status       *core.DeploymentStatus `json:"status,omitempty"`
	DestroyError string                 `json:"destroy_error,omitempty"`
	Created      time.Time              `json:"created"`
	Updated      time.Time              `json:"updated"`
}

// DeploymentList is the answer to the deployments listing.
type DeploymentList struct {
	Deployments []Deployment `json:"deployments"`
}

// DeploymentDetail is one deployment with its spec, history and current
// job.
type DeploymentDetail struct {
	Deployment
	// StatusError says why the status is the recorded one, not a live one.
	StatusError string              `json:"status_error,omitempty"`
	Spec        core.DeploymentSpec `json:"spec"`
	Revisions   []Revision          `json:"revisions"`
	CurrentJob  *Job                `json:"current_job,omitempty"`
}

// Revision is one apply of a deployment.
type Revision struct {
	Number      int               `json:"number"`
	Incarnation int               `json:"incarnation"`
	SourceHash  string            `json:"source_hash"`
	AppliedBy   string            `json:"applied_by"`
	AppliedAt   time.Time         `json:"applied_at"`
	Outcome     string            `json:"outcome"`
	Error       string            `json:"error,omitempty"`
	Images      map[string]string `json:"images"`
	// DestroyedAt is set once the revision's incarnation was destroyed.
	DestroyedAt *time.Time `json:"destroyed_at,omitempty"`
	DestroyedBy string     `json:"destroyed_by,omitempty"`
}

// OperationRequest is the body of a runtime operation (RuntimeOps); every
// field is optional except scale's. Service applies to restart, start,
// stop and scale, Replicas to scale, RemoveData to destroy.
type OperationRequest struct {
	Service    string `json:"service,omitempty"`
	Replicas   *int   `json:"replicas,omitempty"`
	RemoveData bool   `json:"remove_data,omitempty"`
}

// OperationAccepted is the answer to a runtime operation.
type OperationAccepted struct {
	Deployment core.DeploymentRef `json:"deployment"`
	Job        int64              `json:"job"`
}

// RollbackRequest names the revision to go back to; without it, the newest
// succeeded revision of the current incarnation before the current one.
type RollbackRequest struct {
	Revision *int `json:"revision,omitempty"`
}

// RollbackAccepted is the answer to rollback.
type RollbackAccepted struct {
	Job        int64              `json:"job"`
	Deployment core.DeploymentRef `json:"deployment"`
	Revision   int                `json:"revision"`
	// Note says when the revision comes from a destroyed incarnation.
	Note string `json:"note,omitempty"`
}

// The states of a job.
const (
	JobQueued    = "queued"
	JobRunning   = "running"
	JobSucceeded = "succeeded"
	JobFailed    = "failed"
	JobCancelled = "cancelled"
)

// Job is a queued operation; its payload stays inside the host.
type Job struct {
	ID         int64              `json:"id"`
	Deployment core.DeploymentRef `json:"deployment"`
	Kind       Op                 `json:"kind"`
	State      string             `json:"state"`
	Attempts   int                `json:"attempts"`
	Error      string             `json:"error,omitempty"`
	CreatedBy  string             `json:"created_by"`
	Created    time.Time          `json:"created"`
	Started    time.Time          `json:"started,omitzero"`
	Finished   time.Time          `json:"finished,omitzero"`
}

// Succeeded reports whether the job ended well.
func (j *Job) Succeeded() bool { return j.State == JobSucceeded }

// The events of a job's event stream (text/event-stream): "progress" with
// a core.Event, then "end" with the Job; "error" with a StreamError when
// the host cannot read the events.
const (
	EventProgress = "progress"
	EventEnd      = "end"
	EventError    = "error"
	// EventLine is the event of a log stream, with a LogLine.
	EventLine = "line"
)

// StreamError is the data of an "error" event.
type StreamError struct {
	Error string `json:"error"`
}

// LogLine is one line of a service's log.
type LogLine struct {
	Time    time.Time `json:"time"`
	Service string    `json:"service"`
	Replica string    `json:"replica"`
	Stream  string    `json:"stream"` // "stdout" or "stderr"
	Message string    `json:"message"`
}

// MetricsResponse is the answer to a deployment's metrics.
type MetricsResponse struct {
	Points []core.MetricPoint `json:"points"`
}

// NodesResponse is the answer to nodes.
type NodesResponse struct {
	Backend string            `json:"backend"`
	Nodes   []core.NodeHealth `json:"nodes"`
}

// Backend is one registered backend as a tenant sees it: what it is, where
// the tenant may deploy to it, and what its plugin can do. Its
// configuration, which is the operator's, is not shown.
type Backend struct {
	ID           string           `json:"id"`
	Type         string           `json:"type"`
	Name         string           `json:"name"`
	Environments []string         `json:"environments"` // granted to the caller's tenant; "*" for all
	Version      string           `json:"version"`
	Protocol     int              `json:"protocol"`
	Capabilities sdk.Capabilities `json:"capabilities"`
	Health       string           `json:"health"` // "ok" or why not
	// Settable lists the configuration attributes and blocks a topology
	// may set in its reference to the backend.
	Settable []string `json:"settable"`
}

// BackendList is the answer to backends.
type BackendList struct {
	Backends []Backend `json:"backends"`
}

// AuditEntry is one entry of the audit log.
type AuditEntry struct {
	At        time.Time `json:"at"`
	Actor     string    `json:"actor"`
	Tenant    string    `json:"tenant"`
	Action    string    `json:"action"`
	Target    string    `json:"target"`
	Decision  string    `json:"decision"` // "allow" or "deny"
	Reason    string    `json:"reason,omitempty"`
	RequestID string    `json:"request_id"`
}

// AuditList is the answer to audit.
type AuditList struct {
	Entries []AuditEntry `json:"entries"`
}

// The exec WebSocket carries binary frames whose first byte names a
// stream, as Kubernetes' channel protocol does: 0 stdin (client to host),
// 1 stdout and 2 stderr (host to client), 3 control, an ExecControl:
// {"type":"resize","rows":R,"cols":C} and {"type":"close_stdin"} from the
// client, {"type":"exit","code":N} or {"type":"error","message":M} from the
// host, which then closes the socket. {"type":"exit","exit_unknown":true}
// says the command ended but the backend did not report its exit status
// (code is then 0 and means nothing).
const (
	StreamStdin   byte = 0
	StreamStdout  byte = 1
	StreamStderr  byte = 2
	StreamControl byte = 3
)

// ExecSubprotocol names the exec protocol above. A browser offers it
// beside the token subprotocol (auth.WebSocketTokenPrefix), and the host
// selects it; other clients need not offer any.
const ExecSubprotocol = "alphaswarm.exec.v1"

// The types of ExecControl messages.
const (
	ControlResize     = "resize"
	ControlCloseStdin = "close_stdin"
	ControlExit       = "exit"
	ControlError      = "error"
)

// ExecControl is a message on the exec control stream.
type ExecControl struct {
	Type string `json:"type"`
	Rows uint16 `json:"rows,omitempty"`
	Cols uint16 `json:"cols,omitempty"`
	Code int    `json:"code"`
	// ExitUnknown, on an exit message, says the backend did not report
	// the command's exit status (sdk.ExitCodeUnknown).
	ExitUnknown bool   `json:"exit_unknown,omitempty"`
	Message     string `json:"message,omitempty"`
}
