package client

import (
	"time"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/host/internal/planner"
)

// TopologyRequest is the body of plan and apply.
type TopologyRequest struct {
	Files     map[string]string `json:"files"`
	Variables map[string]string `json:"variables,omitempty"`
	PlanHash  string            `json:"plan_hash,omitempty"`
}

// Plan is the answer to plan.
type Plan struct {
	Plans       []planner.DeploymentPlan `json:"plans"`
	Diagnostics []Diagnostic             `json:"diagnostics"`
	Hash        string                   `json:"plan_hash"`
	SourceHash  string                   `json:"source_hash"`
}

// Applied is the answer to apply.
type Applied struct {
	Plan
	Jobs []QueuedJob `json:"jobs"`
}

// QueuedJob names a queued job.
type QueuedJob struct {
	ID         int64              `json:"id"`
	Deployment core.DeploymentRef `json:"deployment"`
}

// Deployment is a deployment as listed.
type Deployment struct {
	Tenant       string                 `json:"tenant"`
	Environment  string                 `json:"environment"`
	Name         string                 `json:"name"`
	Backend      string                 `json:"backend"`
	Revision     int                    `json:"revision"`
	Incarnation  int                    `json:"incarnation"`
	Status       *core.DeploymentStatus `json:"status"`
	DestroyError string                 `json:"destroy_error"`
	Updated      time.Time              `json:"updated"`
}

// DeploymentDetail is one deployment with its history.
type DeploymentDetail struct {
	Deployment
	// StatusError says why the status is the recorded one, not a live one.
	StatusError string              `json:"status_error"`
	Spec        core.DeploymentSpec `json:"spec"`
	Revisions   []Revision          `json:"revisions"`
	CurrentJob  *Job                `json:"current_job"`
}

// Revision is one apply of a deployment.
type Revision struct {
	Number      int               `json:"number"`
	Incarnation int               `json:"incarnation"`
	SourceHash  string            `json:"source_hash"`
	AppliedBy   string            `json:"applied_by"`
	AppliedAt   time.Time         `json:"applied_at"`
	Outcome     string            `json:"outcome"`
	Error       string            `json:"error"`
	Images      map[string]string `json:"images"`
	// DestroyedAt is set once the revision's incarnation was destroyed.
	DestroyedAt *time.Time `json:"destroyed_at"`
	DestroyedBy string     `json:"destroyed_by"`
}

// Job is a queued operation.
type Job struct {
	ID         int64              `json:"id"`
	Deployment core.DeploymentRef `json:"deployment"`
	Kind       string             `json:"kind"`
	State      string             `json:"state"`
	Attempts   int                `json:"attempts"`
	Error      string             `json:"error"`
	CreatedBy  string             `json:"created_by"`
	Created    time.Time          `json:"created"`
	Started    time.Time          `json:"started"`
	Finished   time.Time          `json:"finished"`
}

// Succeeded reports whether the job ended well.
func (j *Job) Succeeded() bool { return j.State == "succeeded" }

// LogLine is one log line.
type LogLine struct {
	Time    time.Time `json:"time"`
	Service string    `json:"service"`
	Replica string    `json:"replica"`
	Stream  string    `json:"stream"`
	Message string    `json:"message"`
}

// Operation is the body of a runtime operation.
type Operation struct {
	Service    string `json:"service,omitempty"`
	Replicas   *int   `json:"replicas,omitempty"`
	RemoveData bool   `json:"remove_data,omitempty"`
}
