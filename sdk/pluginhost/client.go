package pluginhost

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"

	plugin "github.com/hashicorp/go-plugin"

	"github.com/alphaswarm/controller/sdk"
	pb "github.com/alphaswarm/controller/sdk/internal/backendv1"
	"github.com/alphaswarm/controller/sdk/internal/wire"
)

// Client is the host's handle on one running backend plugin. It offers every
// operation of the protocol; an optional one the plugin did not declare fails
// with an sdk.UnsupportedError, which the plugin's SDK gives (with the
// backend's reason, sdk.UnsupportedReasoner) before the backend sees the
// request, once: the client remembers it. Errors keep their sdk type
// (errors.As) and otherwise name the plugin and the operation.
//
// A Client is safe for concurrent use.
type Client struct {
	name     string
	rpc      pb.BackendClient
	info     Info
	proc     *plugin.Client        // nil when not launched by Launch
	protocol plugin.ClientProtocol // nil when not launched by Launch
	closeFn  func()

	// unsupported holds the plugin's answer to each operation of an
	// undeclared capability, once it has given one.
	unsupported sync.Map // op -> *sdk.UnsupportedError
}

// Info returns what the plugin said of itself when it started.
func (c *Client) Info() Info { return c.info }

// Name returns the name the client was launched under.
func (c *Client) Name() string { return c.name }

// Pid returns the plugin's process id, or 0 for an in-process backend.
func (c *Client) Pid() int {
	if c.proc == nil {
		return 0
	}
	if rc := c.proc.ReattachConfig(); rc != nil {
		return rc.Pid
	}
	return 0
}

// Exited reports whether the plugin process has ended.
func (c *Client) Exited() bool { return c.proc != nil && c.proc.Exited() }

// Ping checks that the plugin answers.
func (c *Client) Ping(ctx context.Context) error {
	if c.protocol != nil {
		if err := c.protocol.Ping(); err != nil {
			return c.fail("ping", err)
		}
		return nil
	}
	_, err := c.rpc.GetInfo(ctx, &pb.GetInfo_Request{})
	return c.fail("ping", err)
}

// Close stops the plugin: gracefully, then by force after two seconds.
func (c *Client) Close() {
	if c.proc != nil {
		c.proc.Kill()
	}
	if c.closeFn != nil {
		c.closeFn()
	}
}

// fail converts a wire error into the SDK's typed errors and names the plugin.
func (c *Client) fail(op string, err error) error {
	if err == nil {
		return nil
	}
	err = errorFromStatus(err)
	var unsupported *sdk.UnsupportedError
	if errors.As(err, &unsupported) {
		if capability, ok := opCapability[op]; ok && !c.info.Capabilities.Has(capability) {
			c.unsupported.Store(op, unsupported)
		}
		return err
	}
	return fmt.Errorf("plugin %q: %s: %w", c.name, op, err)
}

// opCapability maps an operation name to the capability it needs.
var opCapability = map[string]sdk.Capability{
	"restart":     sdk.CapRestart,
	"start":       sdk.CapStartStop,
	"stop":        sdk.CapStartStop,
	"scale":       sdk.CapScale,
	"logs":        sdk.CapLogs,
	"exec":        sdk.CapExec,
	"metrics":     sdk.CapMetrics,
	"node_health": sdk.CapNodeHealth,
}

// require fails with the plugin's sdk.UnsupportedError when op needs a
// capability the plugin did not declare and the plugin has answered it
// once. Until then the call goes to the plugin, whose SDK answers
// Unsupported, with the backend's reason, before the backend sees it: the
// reason a plugin gives is not in its Info, which protocol 1 fixed.
func (c *Client) require(op string) error {
	if u, ok := c.unsupported.Load(op); ok {
		return u.(*sdk.UnsupportedError)
	}
	return nil
}

// Configure sends the backend instance's configuration. The plugin checks it
// against its schema; problems are InvalidConfigErrors naming the attribute.
func (c *Client) Configure(ctx context.Context, req *sdk.ConfigureRequest) (*sdk.ConfigureResponse, error) {
	cfg := req.Config
	if cfg == nil {
		cfg = json.RawMessage("{}")
	}
	_, err := c.rpc.Configure(ctx, &pb.Configure_Request{Instance: req.Instance, ConfigJson: cfg})
	if err != nil {
		return nil, c.fail("configure", err)
	}
	return &sdk.ConfigureResponse{}, nil
}

// Validate asks the backend what it cannot run in a deployment. With
// req.Config set it asks a process that was never configured (see
// ValidateConfig); a plugin without Info().OfflineValidation refuses that
// with an sdk.UnsupportedError, without a round trip.
func (c *Client) Validate(ctx context.Context, req *sdk.ValidateRequest) (*sdk.ValidateResponse, error) {
	preq := &pb.Validate_Request{Deployment: wire.SpecToPB(&req.Deployment)}
	if req.Config != nil {
		if !c.info.OfflineValidation {
			return nil, &sdk.UnsupportedError{Backend: c.info.Name, Op: "validate without configure",
				Reason: "the plugin does not check deployments offline; plan checks them once it is configured"}
		}
		preq.Instance, preq.ConfigJson = req.Instance, req.Config
	}
	resp, err := c.rpc.Validate(ctx, preq)
	if err != nil {
		return nil, c.fail("validate", err)
	}
	return &sdk.ValidateResponse{Diagnostics: diagnosticsFromPB(resp.GetDiagnostics())}, nil
}

// Plan asks what Apply would change.
func (c *Client) Plan(ctx context.Context, req *sdk.PlanRequest) (*sdk.PlanResponse, error) {
	resp, err := c.rpc.Plan(ctx, &pb.Plan_Request{Deployment: wire.SpecToPB(&req.Deployment), PriorState: req.PriorState})
	if err != nil {
		return nil, c.fail("plan", err)
	}
	return planFromPB(resp), nil
}

// Apply runs the deployment, passing progress events to progress (which may
// be nil). On failure the response, when not nil, holds the partial state.
func (c *Client) Apply(ctx context.Context, req *sdk.ApplyRequest, progress sdk.ProgressFunc) (*sdk.ApplyResponse, error) {
	stream, err := c.rpc.Apply(ctx, &pb.Apply_Request{
		Deployment: wire.SpecToPB(&req.Deployment), PriorState: req.PriorState, Secrets: req.Secrets,
	})
	if err != nil {
		return nil, c.fail("apply", err)
	}
	var result *sdk.ApplyResponse
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return result, c.fail("apply", err)
		}
		switch m := msg.GetMessage().(type) {
		case *pb.Apply_Response_Event:
			if progress != nil {
				progress(wire.EventFromPB(m.Event))
			}
		case *pb.Apply_Response_Result:
			result = &sdk.ApplyResponse{State: m.Result.GetState()}
		}
	}
	if result == nil {
		return nil, c.fail("apply", errors.New("the plugin ended the apply without a result"))
	}
	return result, nil
}

// Destroy removes the deployment from the backend.
func (c *Client) Destroy(ctx context.Context, req *sdk.DestroyRequest) (*sdk.DestroyResponse, error) {
	_, err := c.rpc.Destroy(ctx, &pb.Destroy_Request{
		Target: wire.TargetToPB(req.Deployment, req.State), RemoveData: req.RemoveData,
	})
	if err != nil {
		return nil, c.fail("destroy", err)
	}
	return &sdk.DestroyResponse{}, nil
}

// Status reports the deployment's health.
func (c *Client) Status(ctx context.Context, req *sdk.StatusRequest) (*sdk.StatusResponse, error) {
	resp, err := c.rpc.Status(ctx, &pb.Status_Request{Target: wire.TargetToPB(req.Deployment, req.State)})
	if err != nil {
		return nil, c.fail("status", err)
	}
	return &sdk.StatusResponse{Status: wire.StatusFromPB(resp.GetStatus())}, nil
}

// Restart restarts one service's replicas, or all.
func (c *Client) Restart(ctx context.Context, req *sdk.RestartRequest) (*sdk.RestartResponse, error) {
	if err := c.require("restart"); err != nil {
		return nil, err
	}
	resp, err := c.rpc.Restart(ctx, &pb.Restart_Request{Target: wire.TargetToPB(req.Deployment, req.State), Service: req.Service})
	if err != nil {
		return nil, c.fail("restart", err)
	}
	return &sdk.RestartResponse{State: resp.GetState()}, nil
}

// Start starts what Stop stopped.
func (c *Client) Start(ctx context.Context, req *sdk.StartRequest) (*sdk.StartResponse, error) {
	if err := c.require("start"); err != nil {
		return nil, err
	}
	resp, err := c.rpc.Start(ctx, &pb.Start_Request{Target: wire.TargetToPB(req.Deployment, req.State), Service: req.Service})
	if err != nil {
		return nil, c.fail("start", err)
	}
	return &sdk.StartResponse{State: resp.GetState()}, nil
}

// Stop stops one service, or all, keeping it defined.
func (c *Client) Stop(ctx context.Context, req *sdk.StopRequest) (*sdk.StopResponse, error) {
	if err := c.require("stop"); err != nil {
		return nil, err
	}
	resp, err := c.rpc.Stop(ctx, &pb.Stop_Request{Target: wire.TargetToPB(req.Deployment, req.State), Service: req.Service})
	if err != nil {
		return nil, c.fail("stop", err)
	}
	return &sdk.StopResponse{State: resp.GetState()}, nil
}

// Scale sets one service's replica count.
func (c *Client) Scale(ctx context.Context, req *sdk.ScaleRequest) (*sdk.ScaleResponse, error) {
	if err := c.require("scale"); err != nil {
		return nil, err
	}
	resp, err := c.rpc.Scale(ctx, &pb.Scale_Request{
		Target: wire.TargetToPB(req.Deployment, req.State), Service: req.Service, Replicas: int32(req.Replicas),
	})
	if err != nil {
		return nil, c.fail("scale", err)
	}
	return &sdk.ScaleResponse{State: resp.GetState()}, nil
}

// Logs streams log lines to send until history is sent (or, with Follow,
// until ctx ends, which is not an error).
func (c *Client) Logs(ctx context.Context, req *sdk.LogsRequest, send sdk.LogSender) error {
	if err := c.require("logs"); err != nil {
		return err
	}
	stream, err := c.rpc.Logs(ctx, &pb.Logs_Request{
		Target: wire.TargetToPB(req.Deployment, req.State), Service: req.Service, Replica: req.Replica,
		Follow: req.Follow, Tail: int32(req.Tail), SinceUnixNano: wire.UnixNano(req.Since),
	})
	if err != nil {
		return c.fail("logs", err)
	}
	for {
		l, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			if ctx.Err() != nil && req.Follow {
				return nil
			}
			return c.fail("logs", err)
		}
		if err := send(sdk.LogLine{
			Time: wire.FromUnixNano(l.GetTimeUnixNano()), Service: l.GetService(), Replica: l.GetReplica(),
			Stream: sdk.Stream(l.GetStream()), Message: string(l.GetMessage()),
		}); err != nil {
			return err
		}
	}
}

// Metrics reports current resource use.
func (c *Client) Metrics(ctx context.Context, req *sdk.MetricsRequest) (*sdk.MetricsResponse, error) {
	if err := c.require("metrics"); err != nil {
		return nil, err
	}
	resp, err := c.rpc.Metrics(ctx, &pb.Metrics_Request{Target: wire.TargetToPB(req.Deployment, req.State), Service: req.Service})
	if err != nil {
		return nil, c.fail("metrics", err)
	}
	return &sdk.MetricsResponse{Points: wire.MetricsFromPB(resp.GetPoints())}, nil
}

// NodeHealth reports the backend's nodes.
func (c *Client) NodeHealth(ctx context.Context, req *sdk.NodeHealthRequest) (*sdk.NodeHealthResponse, error) {
	if err := c.require("node_health"); err != nil {
		return nil, err
	}
	resp, err := c.rpc.NodeHealth(ctx, &pb.NodeHealth_Request{})
	if err != nil {
		return nil, c.fail("node_health", err)
	}
	return &sdk.NodeHealthResponse{Nodes: wire.NodesFromPB(resp.GetNodes())}, nil
}

// Exec runs a command in a replica. Stdin (when the request asks for it) is
// copied to the command until EOF; output goes to Stdout and Stderr; sizes
// from Resize are forwarded until it is closed. It returns the exit code.
func (c *Client) Exec(ctx context.Context, req *sdk.ExecRequest, streams sdk.ExecStreams) (*sdk.ExecResponse, error) {
	if err := c.require("exec"); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.rpc.Exec(ctx)
	if err != nil {
		return nil, c.fail("exec", err)
	}
	in := &execInput{stream: stream}
	err = in.send(&pb.Exec_Input{Input: &pb.Exec_Input_Start{Start: &pb.Exec_Start{
		Target: wire.TargetToPB(req.Deployment, req.State), Service: req.Service, Replica: req.Replica,
		Command: req.Command, Tty: req.TTY, Stdin: req.Stdin,
		Size: &pb.TermSize{Rows: uint32(req.Size.Rows), Cols: uint32(req.Size.Cols)},
	}}})
	if errors.Is(err, io.EOF) {
		// The plugin ended the stream already (Unsupported): its status
		// says why.
		return c.execOutput(stream, streams)
	}
	if err != nil {
		return nil, c.fail("exec", err)
	}
	if req.Stdin && streams.Stdin != nil {
		go in.copyStdin(streams.Stdin)
	}
	if streams.Resize != nil {
		go in.forwardResize(ctx, streams.Resize)
	}
	return c.execOutput(stream, streams)
}

func (c *Client) execOutput(stream pb.Backend_ExecClient, streams sdk.ExecStreams) (*sdk.ExecResponse, error) {
	for {
		out, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil, c.fail("exec", errors.New("the plugin ended the exec without an exit code"))
		}
		if err != nil {
			return nil, c.fail("exec", err)
		}
		switch o := out.GetOutput().(type) {
		case *pb.Exec_Output_Stdout:
			if streams.Stdout != nil {
				streams.Stdout.Write(o.Stdout)
			}
		case *pb.Exec_Output_Stderr:
			if streams.Stderr != nil {
				streams.Stderr.Write(o.Stderr)
			}
		case *pb.Exec_Output_ExitCode:
			return &sdk.ExecResponse{ExitCode: int(o.ExitCode)}, nil
		}
	}
}

// execInput serializes the host's sends on an exec stream.
type execInput struct {
	mu     sync.Mutex
	stream pb.Backend_ExecClient
}

func (in *execInput) send(m *pb.Exec_Input) error {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.stream.Send(m)
}

func (in *execInput) copyStdin(r io.Reader) {
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			chunk := append([]byte(nil), buf[:n]...)
			if in.send(&pb.Exec_Input{Input: &pb.Exec_Input_Stdin{Stdin: chunk}}) != nil {
				return
			}
		}
		if err != nil {
			_ = in.send(&pb.Exec_Input{Input: &pb.Exec_Input_StdinClose{StdinClose: true}})
			return
		}
	}
}

func (in *execInput) forwardResize(ctx context.Context, sizes <-chan sdk.TermSize) {
	for {
		select {
		case <-ctx.Done():
			return
		case s, ok := <-sizes:
			if !ok {
				return
			}
			if in.send(&pb.Exec_Input{Input: &pb.Exec_Input_Resize{Resize: &pb.TermSize{
				Rows: uint32(s.Rows), Cols: uint32(s.Cols),
			}}}) != nil {
				return
			}
		}
	}
}
