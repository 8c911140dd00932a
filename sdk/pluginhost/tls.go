package pluginhost

import (
	"crypto/tls"

	plugin "github.com/hashicorp/go-plugin"

	"github.com/alphaswarm/controller/sdk/internal/wire"
)

// Handshake is the go-plugin handshake of every backend plugin. The cookie
// only keeps a plugin binary from being run by hand; it is not a security
// measure (mutual TLS and the lock file's hashes are).
//
// Launch uses it; it is exported for test plugins that speak go-plugin
// directly instead of through sdk.Serve (to misbehave on purpose, or to
// measure go-plugin itself).
var Handshake plugin.HandshakeConfig = wire.Handshake

// ServerTLS returns the TLS configuration that Launch issued to this plugin
// process, read from the pipe the process inherited, or nil when it was
// launched without one (go-plugin's own AutoMTLS then applies). It accepts
// exactly the launching host's certificate.
//
// sdk.Serve uses it already. Call it only from a test plugin that serves the
// protocol with go-plugin directly, as go-plugin's ServeConfig.TLSProvider;
// it can be read once per process.
func ServerTLS() (*tls.Config, error) { return wire.ServerTLS() }
