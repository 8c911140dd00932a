// Command bad is a backend plugin that misbehaves on purpose, for the plugin
// manager's tests. Its behaviour comes from its file name,
// swarm-backend-<mode>:
//
//	badcookie   expects another magic cookie, so it refuses to start
//	badversion  speaks only protocol version 99
//	crash       panics before the handshake
//	junk        prints something that is not a handshake on stdout
//	hang        never answers the handshake
//	oversize    answers Info with a message over the size limit
//	malformed   answers Info with bytes that are not protobuf
//	misnamed    is a good plugin that calls itself by another name
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	plugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/encoding"
	"google.golang.org/protobuf/proto"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/sdk"
	"github.com/alphaswarm/controller/sdk/pluginhost"
)

func main() {
	mode := strings.TrimPrefix(filepath.Base(os.Args[0]), "swarm-backend-")
	switch mode {
	case "badcookie":
		plugin.Serve(&plugin.ServeConfig{
			HandshakeConfig: plugin.HandshakeConfig{ProtocolVersion: 1, MagicCookieKey: "SOME_OTHER_TOOL", MagicCookieValue: "x"},
			Plugins:         plugin.PluginSet{"backend": rawPlugin{}},
			GRPCServer:      plugin.DefaultGRPCServer,
		})
	case "badversion":
		plugin.Serve(&plugin.ServeConfig{
			HandshakeConfig:  pluginhost.Handshake,
			VersionedPlugins: map[int]plugin.PluginSet{99: {"backend": rawPlugin{}}},
			GRPCServer:       plugin.DefaultGRPCServer,
		})
	case "crash":
		panic("simulated crash before the handshake")
	case "junk":
		fmt.Println("Hello! I am not a plugin, just a program that talks.")
		time.Sleep(time.Minute)
	case "hang":
		time.Sleep(time.Hour)
	case "oversize":
		sdk.Serve(&fake{name: "oversize", description: strings.Repeat("x", sdk.MaxMessageBytes+1024)})
	case "malformed":
		plugin.Serve(&plugin.ServeConfig{
			HandshakeConfig: pluginhost.Handshake,
			Plugins:         plugin.PluginSet{"backend": rawPlugin{}},
			GRPCServer: func(opts []grpc.ServerOption) *grpc.Server {
				return grpc.NewServer(append(opts, grpc.ForceServerCodec(rawCodec{}))...)
			},
			TLSProvider: pluginhost.ServerTLS,
		})
	case "misnamed":
		sdk.Serve(&fake{name: "somebody-else"})
	default:
		fmt.Fprintf(os.Stderr, "bad plugin: unknown mode %q\n", mode)
		os.Exit(2)
	}
}

// rawPlugin registers a Backend service whose GetInfo answers garbage bytes.
type rawPlugin struct{ plugin.NetRPCUnsupportedPlugin }

func (rawPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	s.RegisterService(&grpc.ServiceDesc{
		ServiceName: "alphaswarm.backend.v1.Backend",
		HandlerType: (*any)(nil),
		Methods: []grpc.MethodDesc{{
			MethodName: "GetInfo",
			Handler: func(_ any, _ context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
				var in rawBytes
				_ = dec(&in)
				return rawBytes{0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, nil
			},
		}},
	}, struct{}{})
	return nil
}

func (rawPlugin) GRPCClient(context.Context, *plugin.GRPCBroker, *grpc.ClientConn) (any, error) {
	return nil, nil
}

type rawBytes []byte

// rawCodec sends rawBytes as they are and everything else as protobuf.
type rawCodec struct{}

func (rawCodec) Name() string { return "proto" }

func (rawCodec) Marshal(v any) ([]byte, error) {
	if b, ok := v.(rawBytes); ok {
		return b, nil
	}
	return proto.Marshal(v.(proto.Message))
}

func (rawCodec) Unmarshal(data []byte, v any) error {
	if b, ok := v.(*rawBytes); ok {
		*b = append((*b)[:0], data...)
		return nil
	}
	return proto.Unmarshal(data, v.(proto.Message))
}

var _ encoding.Codec = rawCodec{}

// fake is a well-formed backend with a configurable Info.
type fake struct{ name, description string }

func (f *fake) Info(context.Context) (*sdk.InfoResponse, error) {
	return &sdk.InfoResponse{Name: f.name, Version: "0.0.1", Description: f.description}, nil
}
func (f *fake) Configure(context.Context, *sdk.ConfigureRequest) (*sdk.ConfigureResponse, error) {
	return &sdk.ConfigureResponse{}, nil
}
func (f *fake) Validate(context.Context, *sdk.ValidateRequest) (*sdk.ValidateResponse, error) {
	return &sdk.ValidateResponse{}, nil
}
func (f *fake) Plan(context.Context, *sdk.PlanRequest) (*sdk.PlanResponse, error) {
	return &sdk.PlanResponse{}, nil
}
func (f *fake) Apply(context.Context, *sdk.ApplyRequest, sdk.ProgressFunc) (*sdk.ApplyResponse, error) {
	return &sdk.ApplyResponse{}, nil
}
func (f *fake) Destroy(context.Context, *sdk.DestroyRequest) (*sdk.DestroyResponse, error) {
	return &sdk.DestroyResponse{}, nil
}
func (f *fake) Status(_ context.Context, req *sdk.StatusRequest) (*sdk.StatusResponse, error) {
	return &sdk.StatusResponse{Status: core.DeploymentStatus{Deployment: req.Deployment, Health: core.HealthMissing}}, nil
}
