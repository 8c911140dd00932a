// Package shared is what the plain baseline plugin and its host share.
package shared

import (
	"context"

	plugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
)

// Handshake of the plain plugin.
var Handshake = plugin.HandshakeConfig{ProtocolVersion: 1, MagicCookieKey: "PLAIN_PLUGIN", MagicCookieValue: "plain"}

// Plugins is the plain plugin's set, host side.
var Plugins = plugin.PluginSet{"plain": Plugin{}}

// Plugin registers nothing beyond go-plugin's own services.
type Plugin struct{ plugin.NetRPCUnsupportedPlugin }

func (Plugin) GRPCServer(*plugin.GRPCBroker, *grpc.Server) error { return nil }
func (Plugin) GRPCClient(context.Context, *plugin.GRPCBroker, *grpc.ClientConn) (any, error) {
	return struct{}{}, nil
}
