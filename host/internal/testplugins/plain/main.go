// Command plain is the smallest go-plugin gRPC plugin: no SDK, no TLS of its
// own, no service but go-plugin's. It is the baseline the launch benchmark
// compares the SDK's launch against.
package main

import (
	plugin "github.com/hashicorp/go-plugin"

	"github.com/alphaswarm/controller/host/internal/testplugins/plain/shared"
)

func main() {
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: shared.Handshake,
		Plugins:         shared.Plugins,
		GRPCServer:      plugin.DefaultGRPCServer,
	})
}
