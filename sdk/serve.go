package sdk

import (
	"context"
	"fmt"
	"os"

	hclog "github.com/hashicorp/go-hclog"
	plugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
)

// envLogLevel carries the host's log level to the plugin.
const envLogLevel = "ALPHASWARM_PLUGIN_LOG_LEVEL"

// Serve runs b as a backend plugin. Call it from the plugin's main and nothing
// else; it returns only when the host is done with the plugin.
//
// Serve speaks protocol v1 through go-plugin over gRPC with mutual TLS, logs
// JSON lines on stderr (the host shows them under the plugin's name; use
// hclog.Default() to add yours), and raises gRPC's message limits to
// MaxMessageBytes. Run by hand, or with -version, the binary prints what it
// is and exits.
func Serve(b Backend) {
	level := hclog.LevelFromString(os.Getenv(envLogLevel))
	if level == hclog.NoLevel {
		level = hclog.Info
	}
	logger := hclog.New(&hclog.LoggerOptions{Level: level, Output: os.Stderr, JSONFormat: true})
	hclog.SetDefault(logger)

	s, err := newServer(context.Background(), b)
	if err != nil {
		fmt.Fprintf(os.Stderr, "start backend plugin: %v\n", err)
		os.Exit(1)
	}
	if len(os.Args) > 1 && (os.Args[1] == "-version" || os.Args[1] == "--version") {
		fmt.Printf("%s %s (alphaswarm backend plugin, protocol %d, capabilities %v)\n",
			s.info.Name, s.info.Version, ProtocolVersion, s.caps)
		return
	}
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  Handshake,
		VersionedPlugins: versionedPlugins(s),
		GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
			return grpc.NewServer(append(opts, serverOptions()...)...)
		},
		TLSProvider: ServerTLS,
		Logger:      logger,
	})
}
