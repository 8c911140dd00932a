package sdk

import (
	"context"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"os"
	"time"

	hclog "github.com/hashicorp/go-hclog"
	plugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	pb "github.com/alphaswarm/controller/sdk/internal/backendv1"
	"github.com/alphaswarm/controller/sdk/internal/wire"
)

// MaxMessageBytes bounds one gRPC message in either direction, a state blob
// included. It is raised from gRPC's 4 MiB default so that large deployments
// and state blobs fit, and kept finite so that a misbehaving peer cannot
// exhaust memory.
const MaxMessageBytes = 64 << 20

// Serve runs b as a backend plugin. Call it from the plugin's main and nothing
// else; it returns only when the host is done with the plugin.
//
// Serve speaks protocol v1 through go-plugin over gRPC with mutual TLS, logs
// JSON lines on stderr (the host shows them under the plugin's name; use
// hclog.Default() to add yours), and raises gRPC's message limits to
// MaxMessageBytes. Run by hand, or with -version, the binary prints what it
// is and exits. A plugin never outlives its host: when the host process
// ends, even by SIGKILL, the plugin exits within a second.
func Serve(b Backend) {
	level := hclog.LevelFromString(os.Getenv(wire.EnvLogLevel))
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
	go warmUp(s)
	go exitWithParent(os.Getppid(), time.Second)
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig:  wire.Handshake,
		VersionedPlugins: wire.VersionedPlugins(s),
		GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
			return grpc.NewServer(append(opts, wire.ServerOptions()...)...)
		},
		TLSProvider: wire.ServerTLS,
		Logger:      logger,
	})
}

// exitWithParent ends the process once its parent, the host, has ended: the
// plugin is then another process's child (init's, or a subreaper's). It
// polls, since the host may die without a word (SIGKILL, a crash), and
// Linux's parent-death signal follows the parent's thread, not its process.
func exitWithParent(parent int, every time.Duration) {
	if parent <= 1 {
		return // started by init or detached: there is no host to follow
	}
	for range time.Tick(every) {
		if os.Getppid() != parent {
			fmt.Fprintf(os.Stderr, "the host (pid %d) has ended; the plugin exits\n", parent)
			os.Exit(2)
		}
	}
}

// warmUp runs once what the first call will need, on another core while the
// host is still connecting: the protobuf coders of the Info response and the
// tables of the P-256 and X25519 code behind the TLS handshake. Each costs a
// fresh process a fraction of a millisecond on first use.
func warmUp(s *server) {
	if resp, err := s.GetInfo(context.Background(), nil); err == nil {
		if b, err := proto.Marshal(resp); err == nil {
			_ = proto.Unmarshal(b, &pb.GetInfo_Response{})
		}
	}
	if k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err == nil {
		digest := make([]byte, 32)
		if sig, err := ecdsa.SignASN1(rand.Reader, k, digest); err == nil {
			ecdsa.VerifyASN1(&k.PublicKey, digest, sig)
		}
	}
	if k, err := ecdh.X25519().GenerateKey(rand.Reader); err == nil {
		_, _ = k.ECDH(k.PublicKey())
	}
}
