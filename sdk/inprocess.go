package sdk

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	pb "github.com/alphaswarm/controller/sdk/internal/backendv1"
)

// ServeInProcess serves b on a private Unix socket inside this process and
// returns a Client connected to it. Calls cross a real gRPC connection, with
// the same checks and conversions as a launched plugin, but no process
// boundary and no TLS (the socket is in a 0700 directory). It is for tests:
// plugin authors' unit tests and the conformance kit. Close the Client to stop
// the server.
func ServeInProcess(ctx context.Context, b Backend) (*Client, error) {
	s, err := newServer(ctx, b)
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
	gs := grpc.NewServer(serverOptions()...)
	pb.RegisterBackendServer(gs, s)
	go gs.Serve(lis)
	stop := func() {
		gs.Stop()
		os.RemoveAll(dir)
	}
	conn, err := grpc.NewClient("unix://"+sock,
		append(dialOptions(), grpc.WithTransportCredentials(insecure.NewCredentials()))...)
	if err != nil {
		stop()
		return nil, fmt.Errorf("serve in process: %w", err)
	}
	c := &Client{name: s.info.Name, rpc: pb.NewBackendClient(conn)}
	c.closeFn = func() {
		conn.Close()
		stop()
	}
	if err := c.loadInfo(ctx, ProtocolVersion); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}
