// Package version holds the host's version, set at build time with
// -ldflags "-X github.com/alphaswarm/controller/host/internal/version.Version=v1.2.3".
package version

// Version is the swarmctl and daemon version.
var Version = "0.1.0-dev"
