package sdk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"

	plugin "github.com/hashicorp/go-plugin"

	pb "github.com/alphaswarm/controller/sdk/internal/backendv1"
)

// Client is the host's handle on one running backend plugin. It offers every
// operation of the protocol; an optional one the plugin did not declare fails
// with an UnsupportedError without a round trip. Errors keep their SDK type
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

func (c *Client) loadInfo(ctx context.Context, negotiated int) error {
	resp, err := c.rpc.GetInfo(ctx, &pb.GetInfo_Request{})
	if err != nil {
		return fmt.Errorf("read info: %w", errorFromStatus(err))
	}
	schema, err := schemaFromPB(resp.GetConfigSchema())
	if err != nil {
		return fmt.Errorf("read info: %w", err)
	}
	if resp.GetName() == "" {
		return errors.New("read info: the plugin did not give its name")
	}
	if int(resp.GetProtocolVersion()) != negotiated {
		return fmt.Errorf("read info: plugin says protocol %d but negotiated %d", resp.GetProtocolVersion(), negotiated)
	}
	caps := make(Capabilities, 0, len(resp.GetCapabilities()))
	for _, s := range resp.GetCapabilities() {
		caps = append(caps, Capability(s))
	}
	c.info = Info{
		Name: resp.GetName(), Version: resp.GetVersion(), Description: resp.GetDescription(),
		Protocol: negotiated, Capabilities: caps, ConfigSchema: schema,
	}
	return nil
}

// fail converts a wire error into the SDK's typed errors and names the plugin.
func (c *Client) fail(op string, err error) error {
	if err == nil {
		return nil
	}
	err = errorFromStatus(err)
	var unsupported *UnsupportedError
	if errors.As(err, &unsupported) {
		return err
	}
	return fmt.Errorf("plugin %q: %s: %w", c.name, op, err)
}

// require fails with UnsupportedError when op needs a capability the plugin
// did not declare.
func (c *Client) require(op string) error {
	if capability, ok := opCapability[op]; ok && !c.info.Capabilities.Has(capability) {
		return Unsupported(c.info.Name, op)
	}
	return nil
}

// Configure sends the backend instance's configuration. The plugin checks it
// against its schema; problems are InvalidConfigErrors naming the attribute.
func (c *Client) Configure(ctx context.Context, req *ConfigureRequest) (*ConfigureResponse, error) {
	cfg := req.Config
	if cfg == nil {
		cfg = json.RawMessage("{}")
	}
	_, err := c.rpc.Configure(ctx, &pb.Configure_Request{Instance: req.Instance, ConfigJson: cfg})
	if err != nil {
		return nil, c.fail("configure", err)
	}
	return &ConfigureResponse{}, nil
}

// Validate asks the backend what it cannot run in a deployment.
func (c *Client) Validate(ctx context.Context, req *ValidateRequest) (*ValidateResponse, error) {
	resp, err := c.rpc.Validate(ctx, &pb.Validate_Request{Deployment: specToPB(&req.Deployment)})
	if err != nil {
		return nil, c.fail("validate", err)
	}
	return &ValidateResponse{Diagnostics: diagnosticsFromPB(resp.GetDiagnostics())}, nil
}

// Plan asks what Apply would change.
func (c *Client) Plan(ctx context.Context, req *PlanRequest) (*PlanResponse, error) {
	resp, err := c.rpc.Plan(ctx, &pb.Plan_Request{Deployment: specToPB(&req.Deployment), PriorState: req.PriorState})
	if err != nil {
		return nil, c.fail("plan", err)
	}
	return planFromPB(resp), nil
}

// Apply runs the deployment, passing progress events to progress (which may
// be nil). On failure the response, when not nil, holds the partial state.
func (c *Client) Apply(ctx context.Context, req *ApplyRequest, progress ProgressFunc) (*ApplyResponse, error) {
	stream, err := c.rpc.Apply(ctx, &pb.Apply_Request{
		Deployment: specToPB(&req.Deployment), PriorState: req.PriorState, Secrets: req.Secrets,
	})
	if err != nil {
		return nil, c.fail("apply", err)
	}
	var result *ApplyResponse
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
				progress(eventFromPB(m.Event))
			}
		case *pb.Apply_Response_Result:
			result = &ApplyResponse{State: m.Result.GetState()}
		}
	}
	if result == nil {
		return nil, c.fail("apply", errors.New("the plugin ended the apply without a result"))
	}
	return result, nil
}

// Destroy removes the deployment from the backend.
func (c *Client) Destroy(ctx context.Context, req *DestroyRequest) (*DestroyResponse, error) {
	_, err := c.rpc.Destroy(ctx, &pb.Destroy_Request{
		Target: targetToPB(req.Deployment, req.State), RemoveData: req.RemoveData,
	})
	if err != nil {
		return nil, c.fail("destroy", err)
	}
	return &DestroyResponse{}, nil
}

// Status reports the deployment's health.
func (c *Client) Status(ctx context.Context, req *StatusRequest) (*StatusResponse, error) {
	resp, err := c.rpc.Status(ctx, &pb.Status_Request{Target: targetToPB(req.Deployment, req.State)})
	if err != nil {
		return nil, c.fail("status", err)
	}
	return &StatusResponse{Status: statusFromPB(resp.GetStatus())}, nil
}

// Restart restarts one service's replicas, or all.
func (c *Client) Restart(ctx context.Context, req *RestartRequest) (*RestartResponse, error) {
	if err := c.require("restart"); err != nil {
		return nil, err
	}
	resp, err := c.rpc.Restart(ctx, &pb.Restart_Request{Target: targetToPB(req.Deployment, req.State), Service: req.Service})
	if err != nil {
		return nil, c.fail("restart", err)
	}
	return &RestartResponse{State: resp.GetState()}, nil
}

// Start starts what Stop stopped.
func (c *Client) Start(ctx context.Context, req *StartRequest) (*StartResponse, error) {
	if err := c.require("start"); err != nil {
		return nil, err
	}
	resp, err := c.rpc.Start(ctx, &pb.Start_Request{Target: targetToPB(req.Deployment, req.State), Service: req.Service})
	if err != nil {
		return nil, c.fail("start", err)
	}
	return &StartResponse{State: resp.GetState()}, nil
}

// Stop stops one service, or all, keeping it defined.
func (c *Client) Stop(ctx context.Context, req *StopRequest) (*StopResponse, error) {
	if err := c.require("stop"); err != nil {
		return nil, err
	}
	resp, err := c.rpc.Stop(ctx, &pb.Stop_Request{Target: targetToPB(req.Deployment, req.State), Service: req.Service})
	if err != nil {
		return nil, c.fail("stop", err)
	}
	return &StopResponse{State: resp.GetState()}, nil
}

// Scale sets one service's replica count.
func (c *Client) Scale(ctx context.Context, req *ScaleRequest) (*ScaleResponse, error) {
	if err := c.require("scale"); err != nil {
		return nil, err
	}
	resp, err := c.rpc.Scale(ctx, &pb.Scale_Request{
		Target: targetToPB(req.Deployment, req.State), Service: req.Service, Replicas: int32(req.Replicas),
	})
	if err != nil {
		return nil, c.fail("scale", err)
	}
	return &ScaleResponse{State: resp.GetState()}, nil
}

// Logs streams log lines to send until history is sent (or, with Follow,
// until ctx ends, which is not an error).
func (c *Client) Logs(ctx context.Context, req *LogsRequest, send LogSender) error {
	if err := c.require("logs"); err != nil {
		return err
	}
	stream, err := c.rpc.Logs(ctx, &pb.Logs_Request{
		Target: targetToPB(req.Deployment, req.State), Service: req.Service, Replica: req.Replica,
		Follow: req.Follow, Tail: int32(req.Tail), SinceUnixNano: unixNano(req.Since),
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
		if err := send(LogLine{
			Time: fromUnixNano(l.GetTimeUnixNano()), Service: l.GetService(), Replica: l.GetReplica(),
			Stream: Stream(l.GetStream()), Message: string(l.GetMessage()),
		}); err != nil {
			return err
		}
	}
}

// Metrics reports current resource use.
func (c *Client) Metrics(ctx context.Context, req *MetricsRequest) (*MetricsResponse, error) {
	if err := c.require("metrics"); err != nil {
		return nil, err
	}
	resp, err := c.rpc.Metrics(ctx, &pb.Metrics_Request{Target: targetToPB(req.Deployment, req.State), Service: req.Service})
	if err != nil {
		return nil, c.fail("metrics", err)
	}
	return &MetricsResponse{Points: metricsFromPB(resp.GetPoints())}, nil
}

// NodeHealth reports the backend's nodes.
func (c *Client) NodeHealth(ctx context.Context, req *NodeHealthRequest) (*NodeHealthResponse, error) {
	if err := c.require("node_health"); err != nil {
		return nil, err
	}
	resp, err := c.rpc.NodeHealth(ctx, &pb.NodeHealth_Request{})
	if err != nil {
		return nil, c.fail("node_health", err)
	}
	return &NodeHealthResponse{Nodes: nodesFromPB(resp.GetNodes())}, nil
}

// Exec runs a command in a replica. Stdin (when the request asks for it) is
// copied to the command until EOF; output goes to Stdout and Stderr; sizes
// from Resize are forwarded until it is closed. It returns the exit code.
func (c *Client) Exec(ctx context.Context, req *ExecRequest, streams ExecStreams) (*ExecResponse, error) {
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
		Target: targetToPB(req.Deployment, req.State), Service: req.Service, Replica: req.Replica,
		Command: req.Command, Tty: req.TTY, Stdin: req.Stdin,
		Size: &pb.TermSize{Rows: uint32(req.Size.Rows), Cols: uint32(req.Size.Cols)},
	}}})
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

func (c *Client) execOutput(stream pb.Backend_ExecClient, streams ExecStreams) (*ExecResponse, error) {
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
			return &ExecResponse{ExitCode: int(o.ExitCode)}, nil
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

func (in *execInput) forwardResize(ctx context.Context, sizes <-chan TermSize) {
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
