// Package sdk is the public SDK for alphaswarm-controller backend plugins.
//
// A backend plugin is a separate program, swarm-backend-<name>, that the
// host launches and talks to over gRPC (hashicorp/go-plugin, mutual TLS).
// Plugin authors never touch gRPC or protobuf: they implement Go interfaces
// and call Serve.
//
// # What to implement
//
// Every backend implements Backend: Info (an InfoResponse: name, version,
// configuration schema), Configure, Validate, Plan, Apply, Destroy and Status. Optional
// operations are small interfaces; implementing one declares the capability,
// and the SDK tells the host:
//
//	Restarter           restart            StartStopper        start, stop
//	Scaler              scale              LogStreamer         logs
//	Executor            exec               MetricsReader       metrics
//	NodeHealthReporter  node health
//
// An Executor whose platform runs commands but never says how they ended
// answers ExitCodeUnknown rather than a made-up code; hosts tell the user.
//
// An operation the backend does not declare fails with an UnsupportedError
// naming the backend and the operation, before any call reaches the
// backend's code. Do not implement an interface only to return Unsupported
// from it: implement UnsupportedReasoner instead to say why a capability is
// missing and what would bring it, and the error carries that reason to the
// host and to swarmctl.
//
// Implement ConfigValidator too, so that swarmctl validate and the host's
// start can check a configuration (and Validate a deployment against it)
// offline, on a process that is never configured: decode and check the
// configuration in one function that Configure and ValidateConfig both
// call (DecodeConfig, and Unknown for credentials not resolved yet).
// Without it a configuration is checked against the schema only until
// plan configures the plugin, and the host says so.
//
// # Rules every backend follows
//
//   - Stateless: keep nothing between calls. Apply returns an opaque state
//     blob (any bytes, usually JSON); the host stores it and passes it back to
//     every later call for that deployment. A plugin may crash and be
//     relaunched at any time without losing a deployment, even in the
//     middle of an Apply: name what you create from tenant, environment and
//     deployment, so that the next Apply finds it without the state.
//   - Idempotent: Apply means "make it so". Applying the same spec twice
//     changes nothing; a retried Destroy of what is gone succeeds. The host
//     retries after crashes and UnavailableErrors.
//   - Honest errors: return the typed errors of this package (NotFound,
//     InvalidConfig with the attribute path, InvalidRequest for a request
//     the caller must change, Unavailable for retriable trouble) and wrap
//     the rest as "verb noun: %w". They reach the host with
//     their type intact.
//   - No secrets at rest: ApplyRequest.Secrets and sensitive configuration
//     attributes are resolved values. Pass them to the workload; never put
//     them in the state blob, events, logs or errors.
//   - Cancellation: every method takes a context; when it ends, return
//     within 5 seconds with an error that wraps ctx.Err().
//
// The SDK checks requests before your code sees them: configuration against
// your Schema (types, required attributes, unknown attributes, defaults),
// deployments against core.DeploymentSpec.Validate, capabilities against the
// interfaces you implement.
//
// # Helpers
//
// What every backend needs, so that no plugin writes it again:
//
//   - State blob: StateFormat[T] encodes your state type T with a version
//     and the deployment's Salt, and decodes it back into a State[T]. A blob
//     of a version the plugin cannot read, or one that is not a state, fails
//     with a *StateError that wraps ErrStateVersion (naming the version found
//     and the one wanted) or ErrStateCorrupt. A blob without a version, as
//     plugins stored before they used StateFormat, decodes as version 0, so
//     deployments made then keep working. Embed Salted in T to carry the salt
//     with st.Salt(), and AppliedServices for the services as last applied
//     and the replica counts stop remembers (the example below).
//     EncodeAfter returns the state with the error of an operation that
//     failed half-way.
//   - Secrets in config hashes: Salt.HashSecrets is an HMAC of a service's
//     secret values keyed by the deployment's salt, to put in a config hash,
//     label or annotation so that a changed value rolls the workload while
//     the hash reveals nothing.
//   - Progress: NewProgress wraps the ProgressFunc that Apply receives. It is
//     safe for concurrent use (goroutines that converge services side by side
//     share one; the ProgressFunc sees one event at a time) and stamps each
//     event's Time, in UTC, when it is reported.
//   - Log history: MergeLogHistory merges the history of several replicas by
//     time, applying LogsRequest.Since and then Tail to each replica;
//     SendLogs sends it.
//   - Polling: Poll calls a check with exponential backoff and jitter until it
//     is done, for operations a backend finishes later (a cloud API's
//     long-running operation, a rollout). It honours the context and ends
//     with ErrPollTimeout after PollOptions.Timeout.
//
// A state blob, decoded and encoded:
//
//	type state struct {
//		sdk.Salted
//		sdk.AppliedServices
//		Project string `json:"project,omitempty"`
//	}
//
//	var stateFormat = sdk.StateFormat[state]{Version: 1}
//
//	s, err := stateFormat.Decode(req.PriorState) // no blob: s.New, a fresh salt
//	st := s.Value                                // st.Salt() is the blob's salt
//	...
//	blob, err := stateFormat.EncodeAfter(applyErr, st, st.Salt())
//
// # Serving
//
//	func main() { sdk.Serve(mybackend.New()) }
//
// Serve handles the handshake, protocol negotiation, mutual TLS, message
// limits (MaxMessageBytes) and JSON logging on stderr; use hclog.Default()
// for your own log lines, which the host shows under the plugin's name. Put
// the binary, named swarm-backend-<name>, in the host's plugin directory
// (flat for development, or <dir>/<name>/<version>/<os>_<arch>/) and run
// "swarmctl plugins lock" to pin its hash.
//
// # Testing
//
// Package backendtest is the conformance kit: backendtest.Run drives your
// backend across a real gRPC connection and checks each rule above and every
// capability you declare. Run it against the launched binary
// (backendtest.LaunchPackage builds your main package once per test run):
// some checks kill the plugin process or read its stderr. The memory
// backend in examples/backend-memory (package memory, its main in
// cmd/swarm-backend-memory) is a complete plugin to copy.
//
// The host's side of the protocol (launching a plugin binary and calling
// it) is package sdk/pluginhost. A plugin does not import it; tests may, to
// drive a backend the way the host does.
//
// # Compatibility promise for protocol v1
//
// This SDK speaks plugin protocol 1 (ProtocolVersion). Within protocol 1:
//
//   - The wire protocol (proto/alphaswarm/backend/v1/backend.proto) only
//     grows: RPCs and fields are added, never renamed, renumbered, retyped or
//     removed. A host and a plugin built against different v1 SDK versions
//     work together; a field one side does not know is ignored, and a health
//     or other enumerated value one side does not know reads as unknown.
//   - New optional capabilities may be added as new interfaces. Existing
//     interfaces and the Backend interface do not change their methods.
//   - Request and response structs may gain fields. Construct them with
//     field names, not positionally.
//   - A change that cannot follow these rules is protocol 2, served beside
//     protocol 1 through go-plugin's version negotiation for at least one
//     minor release of the host, so plugins can move at their own pace.
package sdk
