package sdk

import "context"

// Backend is what every backend plugin implements: describe itself, accept its
// configuration, and plan, apply, destroy and report on deployments.
//
// Every method takes the caller's context first and honours its cancellation.
// Methods are called concurrently for different deployments; a backend guards
// its own shared fields. Plugins keep no state of their own between calls:
// whatever a later call needs goes into the state blob that Apply (and the
// other mutating operations) return, which the host stores and hands back.
type Backend interface {
	// Info names the backend and declares the schema of its configuration
	// block. It is called before Configure and must not depend on it.
	Info(ctx context.Context) (*InfoResponse, error)

	// Configure receives the backend instance's configuration, already checked
	// against the schema from Info, with defaults filled in. It is called once
	// per plugin process, before any other operation but Info. Return
	// InvalidConfig naming the attribute for values the schema cannot rule out.
	Configure(ctx context.Context, req *ConfigureRequest) (*ConfigureResponse, error)

	// Validate checks a deployment against what this backend can run, without
	// touching the backend. Problems are diagnostics, not errors.
	Validate(ctx context.Context, req *ValidateRequest) (*ValidateResponse, error)

	// Plan compares the deployment with what the backend runs and says, per
	// service, what Apply would create, update or delete.
	Plan(ctx context.Context, req *PlanRequest) (*PlanResponse, error)

	// Apply makes the backend run the deployment as specified ("make it so").
	// It is idempotent: applying the same spec twice changes nothing the second
	// time. It reports progress through progress, which is never nil. On
	// failure it returns the error together with a response whose State
	// records what it created, so that Destroy can remove it.
	Apply(ctx context.Context, req *ApplyRequest, progress ProgressFunc) (*ApplyResponse, error)

	// Destroy removes everything Apply created. Destroying what is already
	// gone succeeds.
	Destroy(ctx context.Context, req *DestroyRequest) (*DestroyResponse, error)

	// Status reports the deployment's health, per service and replica.
	Status(ctx context.Context, req *StatusRequest) (*StatusResponse, error)
}

// The optional capabilities. A backend declares one by implementing its
// interface; the SDK reads the set when the plugin starts and reports it in
// Info. Calls to a capability that is not declared fail with an
// UnsupportedError before they reach the backend's code; a backend that
// implements UnsupportedReasoner gives the error its reason.

// Restarter restarts the replicas of one service, or of every service.
type Restarter interface {
	Restart(ctx context.Context, req *RestartRequest) (*RestartResponse, error)
}

// StartStopper stops a service (or all) without forgetting it, and starts it
// again with the replica count it had.
type StartStopper interface {
	Start(ctx context.Context, req *StartRequest) (*StartResponse, error)
	Stop(ctx context.Context, req *StopRequest) (*StopResponse, error)
}

// Scaler changes the replica count of one service.
type Scaler interface {
	Scale(ctx context.Context, req *ScaleRequest) (*ScaleResponse, error)
}

// LogStreamer sends the log lines of a service's replicas to send, oldest
// first. With Follow it keeps sending until ctx is cancelled.
type LogStreamer interface {
	Logs(ctx context.Context, req *LogsRequest, send LogSender) error
}

// Executor runs a command inside one replica, wired to streams.
type Executor interface {
	Exec(ctx context.Context, req *ExecRequest, streams ExecStreams) (*ExecResponse, error)
}

// MetricsReader reports current resource use per replica.
type MetricsReader interface {
	Metrics(ctx context.Context, req *MetricsRequest) (*MetricsResponse, error)
}

// NodeHealthReporter reports the health of the nodes the backend runs on.
type NodeHealthReporter interface {
	NodeHealth(ctx context.Context, req *NodeHealthRequest) (*NodeHealthResponse, error)
}
