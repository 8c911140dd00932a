// Package pluginhost is the host's side of the backend plugin protocol: it
// launches plugin binaries and calls them. Plugin authors do not need it
// (they implement sdk.Backend and call sdk.Serve), except to drive their
// backend in tests, which package backendtest does for them.
//
// Launch starts a plugin process with only the environment it is given,
// completes go-plugin's handshake over mutual TLS (the host issues a P-256
// certificate per launch, and each side pins the other's certificate byte
// for byte), negotiates the protocol version, and reads the plugin's Info:
// name, version, protocol, declared capabilities and configuration schema.
// The returned Client offers every operation of the protocol with the
// request and response types of package sdk; an optional operation the
// plugin did not declare fails with an sdk.UnsupportedError without a round
// trip, and errors keep their sdk types across the wire (errors.As).
//
// Offline checks: ValidateConfig, and Validate with ValidateRequest.Config,
// check a configuration and deployments on a process that was never
// configured (launch it with no environment), as swarmctl validate does.
// Info.OfflineValidation says whether the plugin does its own checks there;
// a plugin that does not (built before them) is not asked, and
// ValidateConfig answers a warning that its checks were skipped.
//
// ServeInProcess serves an sdk.Backend inside the calling process over a
// real gRPC connection, with the same checks as a launched plugin, for tests.
//
// Handshake and ServerTLS are for test plugins that speak go-plugin directly
// instead of through sdk.Serve.
package pluginhost
