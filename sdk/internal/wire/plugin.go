package wire

import (
	"context"

	plugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	pb "github.com/alphaswarm/controller/sdk/internal/backendv1"
)

// ProtocolVersion is the version of the plugin protocol both sides speak.
const ProtocolVersion = 1

// Handshake is the go-plugin handshake shared by the host and every backend
// plugin. The cookie only keeps a plugin binary from being run by hand; it is
// not a security measure (mutual TLS and the lock file's hashes are).
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  ProtocolVersion,
	MagicCookieKey:   "ALPHASWARM_BACKEND_PLUGIN",
	MagicCookieValue: "7d1c4e0a-backend-v1",
}

// EnvLogLevel carries the host's log level to the plugin.
const EnvLogLevel = "ALPHASWARM_PLUGIN_LOG_LEVEL"

// MaxMessageBytes bounds one gRPC message in either direction. It is raised
// from gRPC's 4 MiB default so that large deployments and state blobs fit, and
// kept finite so that a misbehaving peer cannot exhaust memory.
const MaxMessageBytes = 64 << 20

// PluginName is the key of the backend in go-plugin's plugin set.
const PluginName = "backend"

// NewServer adapts a backend (an sdk.Backend, which this package cannot
// name without an import cycle) to the generated gRPC service, with every
// check the protocol promises. Package sdk sets it in its init, so it is
// set wherever sdk is linked in; pluginhost.ServeInProcess uses it to serve
// a backend without exporting sdk's server.
var NewServer func(ctx context.Context, backend any) (pb.BackendServer, error)

// backendPlugin is the go-plugin glue: the plugin side registers the server,
// the host side dispenses the generated client.
type backendPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	server pb.BackendServer
}

var _ plugin.GRPCPlugin = (*backendPlugin)(nil)

func (p *backendPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	pb.RegisterBackendServer(s, p.server)
	return nil
}

func (p *backendPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return pb.NewBackendClient(c), nil
}

// VersionedPlugins lists the protocol versions this SDK speaks, serving s
// (nil on the host side). A v2 would be added beside v1 here, and go-plugin
// picks the newest both sides know.
func VersionedPlugins(s pb.BackendServer) map[int]plugin.PluginSet {
	return map[int]plugin.PluginSet{
		ProtocolVersion: {PluginName: &backendPlugin{server: s}},
	}
}

// ServerOptions raise gRPC's message limits to MaxMessageBytes.
func ServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{grpc.MaxRecvMsgSize(MaxMessageBytes), grpc.MaxSendMsgSize(MaxMessageBytes)}
}

// DialOptions raise the client's limits to match the server's.
func DialOptions() []grpc.DialOption {
	return []grpc.DialOption{grpc.WithDefaultCallOptions(
		grpc.MaxCallRecvMsgSize(MaxMessageBytes), grpc.MaxCallSendMsgSize(MaxMessageBytes),
	)}
}
