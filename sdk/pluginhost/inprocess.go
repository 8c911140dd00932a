package pluginhost

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/alphaswarm/controller/sdk"
	pb "github.com/alphaswarm/controller/sdk/internal/backendv1"
	"github.com/alphaswarm/controller/sdk/internal/wire"
)

// ServeInProcess serves b on a private Unix socket inside this process and
// returns a Client connected to it. Calls cross a real gRPC connection, with
// the same checks and conversions as a launched plugin (sdk.Serve's), but no
// process boundary and no TLS (the socket is in a 0700 directory). It is for
// tests: plugin authors' unit tests and the conformance kit. Close the
// Client to stop the server.
func ServeInProcess(ctx context.Context, b sdk.Backend) (*Client, error) {
	if wire.NewServer == nil { // set by package sdk's init, which this package imports
		return nil, errors.New("serve in process: the sdk's server is not linked in")
	}
	s, err := wire.NewServer(ctx, b)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "swarm-backend-")
	if err != nil {
		return nil, fmt.Errorf("serve in process: %w", err)
	}
	sock := filepath.Join(dir, "backend.sock")
	lis, err := net.Listen("unix", sock)
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("serve in process: %w", err)
	}
	gs := grpc.NewServer(wire.ServerOptions()...)
	pb.RegisterBackendServer(gs, s)
	go gs.Serve(lis)
	stop := func() {
		gs.Stop()
		os.RemoveAll(dir)
	}
	conn, err := grpc.NewClient("unix://"+sock,
		append(wire.DialOptions(), grpc.WithTransportCredentials(insecure.NewCredentials()))...)
	if err != nil {
		stop()
		return nil, fmt.Errorf("serve in process: %w", err)
	}
	c := &Client{rpc: pb.NewBackendClient(conn)}
	c.closeFn = func() {
		conn.Close()
		stop()
	}
	if err := c.loadInfo(ctx, wire.ProtocolVersion); err != nil {
		c.Close()
		return nil, err
	}
	c.name = c.info.Name
	return c, nil
}
