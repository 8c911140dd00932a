package compose

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/alphaswarm/controller/sdk"
)

// Exec runs a command in a replica through the engine's exec API: stdin
// when asked, a TTY when asked (then stderr arrives on stdout), resizes
// forwarded, and the command's exit code.
func (b *Backend) Exec(ctx context.Context, req *sdk.ExecRequest, streams sdk.ExecStreams) (*sdk.ExecResponse, error) {
	t, err := b.target(ctx, req.Deployment, req.State, req.Service)
	if err != nil {
		return nil, err
	}
	var r *replica
	for _, c := range t.replicas[req.Service] {
		if c.state == "running" && (req.Replica == "" || c.short() == req.Replica) {
			r = &c
			break
		}
	}
	if r == nil {
		return nil, sdk.NotFound("running replica %q of service %q", req.Replica, req.Service)
	}
	opts := container.ExecOptions{
		Cmd: req.Command, Tty: req.TTY, AttachStdin: req.Stdin, AttachStdout: true, AttachStderr: true,
	}
	if req.TTY && req.Size.Rows > 0 {
		opts.ConsoleSize = &[2]uint{uint(req.Size.Rows), uint(req.Size.Cols)}
	}
	created, err := b.docker.ContainerExecCreate(ctx, r.id, opts)
	if err != nil {
		return nil, b.engineError(fmt.Errorf("exec in %s: %w", r.name, err))
	}
	conn, err := b.docker.ContainerExecAttach(ctx, created.ID, container.ExecAttachOptions{Tty: req.TTY, ConsoleSize: opts.ConsoleSize})
	if err != nil {
		return nil, b.engineError(fmt.Errorf("attach to exec in %s: %w", r.name, err))
	}
	defer conn.Close()
	go func() { // cancellation closes the connection, which ends the copies below
		<-ctx.Done()
		conn.Close()
	}()
	if req.Stdin && streams.Stdin != nil {
		go func() {
			io.Copy(conn.Conn, streams.Stdin)
			conn.CloseWrite()
		}()
	}
	go func() {
		// The engine keeps ConsoleSize for the exec, but the process starts
		// on a 0x0 terminal: set the first size once it runs, as the docker
		// CLI does, and only then forward changes, so they arrive in order.
		if req.TTY && req.Size.Rows > 0 && req.Size.Cols > 0 {
			b.initialExecSize(ctx, created.ID, req.Size)
		}
		for size := range streams.Resize {
			_ = b.docker.ContainerExecResize(ctx, created.ID, container.ResizeOptions{Height: uint(size.Rows), Width: uint(size.Cols)})
		}
	}()
	if req.TTY {
		_, err = io.Copy(streams.Stdout, conn.Reader)
	} else {
		_, err = stdcopy.StdCopy(streams.Stdout, streams.Stderr, conn.Reader)
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if err != nil {
		return nil, fmt.Errorf("exec in %s: read output: %w", r.name, err)
	}
	return b.execExitCode(ctx, created.ID, r.name)
}

// initialExecSize sets an exec's terminal size, retrying a few times while
// the engine does not report the exec running yet.
func (b *Backend) initialExecSize(ctx context.Context, id string, size sdk.TermSize) {
	for attempt := 1; attempt <= 10; attempt++ {
		err := b.docker.ContainerExecResize(ctx, id, container.ResizeOptions{Height: uint(size.Rows), Width: uint(size.Cols)})
		if err == nil || ctx.Err() != nil {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Duration(attempt) * 10 * time.Millisecond):
		}
	}
}

// execExitCode waits for the exec to be reported finished and returns its
// exit code.
func (b *Backend) execExitCode(ctx context.Context, id, name string) (*sdk.ExecResponse, error) {
	for {
		in, err := b.docker.ContainerExecInspect(ctx, id)
		if err != nil {
			return nil, b.engineError(fmt.Errorf("exec in %s: %w", name, err))
		}
		if !in.Running {
			return &sdk.ExecResponse{ExitCode: in.ExitCode}, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}
