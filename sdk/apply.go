package sdk

import (
	"fmt"

	"github.com/alphaswarm/controller/core"
)

// ProgressFunc receives the progress events of a running operation.
type ProgressFunc func(core.Event)

// SecretValues maps secret references (core.SecretRef.Ref) to their values.
// The host resolves them for one call; a backend passes them to the workload
// and never stores them in its state. Printing it shows only the names.
type SecretValues map[string]string

// String lists the references, never the values.
func (s SecretValues) String() string { return fmt.Sprintf("SecretValues(%d redacted)", len(s)) }

// GoString keeps %#v from printing values.
func (s SecretValues) GoString() string { return s.String() }

// ApplyRequest asks the backend to run Deployment. PriorState is what the last
// apply returned, nil the first time.
type ApplyRequest struct {
	Deployment core.DeploymentSpec
	PriorState []byte
	Secrets    SecretValues
}

// ApplyResponse carries the new state to store and hand back later.
type ApplyResponse struct {
	State []byte
}

// DestroyRequest asks the backend to remove a deployment. RemoveData also
// removes named volumes and other data that outlive containers.
type DestroyRequest struct {
	Deployment core.DeploymentRef
	State      []byte
	RemoveData bool
}

// DestroyResponse is empty; it exists so fields can be added later.
type DestroyResponse struct{}

// StatusRequest asks for a deployment's health.
type StatusRequest struct {
	Deployment core.DeploymentRef
	State      []byte
}

// StatusResponse carries what the backend observed.
type StatusResponse struct {
	Status core.DeploymentStatus
}
