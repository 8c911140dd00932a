package sdk

import (
	"encoding/json"

	"github.com/alphaswarm/controller/core"
)

// Severity grades a Diagnostic.
type Severity string

// The diagnostic severities.
const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
)

// Diagnostic is one finding about a deployment. Path names the field the way
// the topology spells it ("service.api.resources.cpu") so that the host can
// point at the line in the source file.
type Diagnostic struct {
	Severity Severity `json:"severity"`
	Summary  string   `json:"summary"`
	Detail   string   `json:"detail,omitempty"`
	Path     string   `json:"path,omitempty"`
}

// ValidateRequest asks whether the backend can run a deployment.
type ValidateRequest struct {
	Deployment core.DeploymentSpec
	// Instance and Config, when Config is not nil, are the instance and the
	// configuration (as Configure would receive them) to check against, on
	// a process that was never configured: swarmctl validate checks offline
	// this way. Only a backend that implements ConfigValidator receives
	// them; nil Config means the process's own configuration.
	Instance string
	Config   json.RawMessage
}

// ValidateResponse lists what is wrong, or nothing.
type ValidateResponse struct {
	Diagnostics []Diagnostic
}

// PlanRequest asks what Apply would change. PriorState is what the last apply
// returned, nil for a deployment never applied.
type PlanRequest struct {
	Deployment core.DeploymentSpec
	PriorState []byte
}

// Action is what a plan does to one service.
type Action string

// The plan actions.
const (
	ActionCreate Action = "create"
	ActionUpdate Action = "update"
	ActionDelete Action = "delete"
	ActionNoop   Action = "no-op"
)

// FieldChange is one field that differs between what runs and what is asked
// for, rendered as JSON for display.
type FieldChange struct {
	Path   string `json:"path"`
	Before string `json:"before,omitempty"`
	After  string `json:"after,omitempty"`
}

// ServiceChange is the plan for one service.
type ServiceChange struct {
	Service string        `json:"service"`
	Action  Action        `json:"action"`
	Fields  []FieldChange `json:"fields,omitempty"`
}

// CompatLevel says how well a backend honours a field.
type CompatLevel string

// The compatibility levels.
const (
	// CompatApproximated: honoured in a nearby form (CPU rounded to a tier).
	CompatApproximated CompatLevel = "approximated"
	// CompatDropped: ignored by this backend.
	CompatDropped CompatLevel = "dropped"
	// CompatError: cannot be run on this backend at all.
	CompatError CompatLevel = "error"
)

// CompatibilityNote reports one field a backend cannot honour as written.
type CompatibilityNote struct {
	Service string      `json:"service"`
	Field   string      `json:"field"`
	Level   CompatLevel `json:"level"`
	Detail  string      `json:"detail"`
}

// PlanResponse lists the change to every service, in the deployment's order,
// then deleted services, and the compatibility report.
type PlanResponse struct {
	Services      []ServiceChange
	Compatibility []CompatibilityNote
}
