// Package azure is the Azure backend of alphaswarm-controller: it runs a
// deployment as Azure Container Apps in a managed environment (existing, or
// created by Configure when the operator sets create_environment), through
// the Azure SDK for Go (azidentity, armappcontainers).
//
// Each service of a deployment becomes one container app in single-revision
// mode, named from the operator's prefix, the deployment and the service
// with a hash of tenant, environment, deployment and service, and tagged
// with all four, so that destroy and status find it without the state. The
// image, command, environment and a valid Container Apps size (CPU and
// memory rounded up to a consumption combination) go into the app's
// template; HTTP and TCP health checks become readiness probes; ports
// become ingress, external for published ones. Secret values go into the
// app's secrets only, referenced by secretRef from the environment, and a
// keyed hash of them into the template so that a changed value makes a new
// revision. Long-running operations are awaited through the SDK's pollers.
//
// Runtime operations: scale (min = max replicas), stop and start (the app's
// own operations), restart (the latest revision), logs (each replica's log
// stream endpoint with the app's auth token), metrics (Azure Monitor, per
// replica), node health (the managed environment) and exec (the replica
// container's exec endpoint, a WebSocket with the app's auth token; see
// exec.go for its framing). The exec endpoint closes the session without
// an exit status, so Exec answers sdk.ExitCodeUnknown; it takes the
// command as one line, so arguments with whitespace are refused.
//
// The plugin binary is cmd/swarm-backend-azure; docs/azure.md is the
// operator's page.
package azure
