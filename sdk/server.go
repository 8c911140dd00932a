package sdk

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	hclog "github.com/hashicorp/go-hclog"

	"github.com/alphaswarm/controller/core"
	pb "github.com/alphaswarm/controller/sdk/internal/backendv1"
	"github.com/alphaswarm/controller/sdk/internal/wire"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// server adapts a Backend to the generated gRPC service. It checks what the
// protocol promises before the backend sees a call: configuration against the
// schema, deployments against core.Validate, capabilities against the
// interfaces the backend implements.
type server struct {
	pb.UnimplementedBackendServer
	impl Backend
	info *InfoResponse
	caps Capabilities
}

var _ pb.BackendServer = (*server)(nil)

// init lends newServer to pluginhost.ServeInProcess, through package wire,
// without exporting it to plugin authors.
func init() {
	wire.NewServer = func(ctx context.Context, backend any) (pb.BackendServer, error) {
		b, ok := backend.(Backend)
		if !ok {
			return nil, fmt.Errorf("serve backend: %T does not implement sdk.Backend", backend)
		}
		return newServer(ctx, b)
	}
}

// newServer reads the backend's Info once and checks its schema, so that a
// plugin with a broken schema fails at start rather than at the first call.
func newServer(ctx context.Context, impl Backend) (*server, error) {
	info, err := impl.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("read backend info: %w", err)
	}
	if info.Name == "" {
		return nil, errors.New("read backend info: Name is empty")
	}
	if err := info.ConfigSchema.Check(); err != nil {
		return nil, fmt.Errorf("backend %q: %w", info.Name, err)
	}
	return &server{impl: impl, info: info, caps: CapabilitiesOf(impl)}, nil
}

// unsupported answers that the backend does not offer op, with the reason
// the backend gives for the capability op belongs to (UnsupportedReasoner).
func (s *server) unsupported(op string) error {
	err := &UnsupportedError{Backend: s.info.Name, Op: op}
	if r, ok := s.impl.(UnsupportedReasoner); ok {
		if c, ok := opCapabilities[op]; ok {
			err.Reason = r.UnsupportedReason(c)
		}
	}
	return errorToStatus(err)
}

// opCapabilities maps the operations of the optional capabilities to them.
var opCapabilities = map[string]Capability{
	"restart": CapRestart, "start": CapStartStop, "stop": CapStartStop, "scale": CapScale, "logs": CapLogs,
	"exec": CapExec, "metrics": CapMetrics, "node_health": CapNodeHealth,
}

func (s *server) GetInfo(ctx context.Context, _ *pb.GetInfo_Request) (*pb.GetInfo_Response, error) {
	schema, err := schemaToPB(s.info.ConfigSchema)
	if err != nil {
		return nil, errorToStatus(err)
	}
	caps := make([]string, len(s.caps))
	for i, c := range s.caps {
		caps[i] = string(c)
	}
	return &pb.GetInfo_Response{
		Name: s.info.Name, Version: s.info.Version, Description: s.info.Description,
		ConfigSchema: schema, Capabilities: caps, ProtocolVersion: ProtocolVersion,
		OfflineValidation: s.offline(),
	}, nil
}

func (s *server) Configure(ctx context.Context, req *pb.Configure_Request) (*pb.Configure_Response, error) {
	cfg, err := s.info.ConfigSchema.Normalize(req.GetConfigJson())
	if err != nil {
		return nil, errorToStatus(err)
	}
	_, err = s.impl.Configure(ctx, &ConfigureRequest{Instance: req.GetInstance(), Config: cfg})
	return &pb.Configure_Response{}, errorToStatus(err)
}

func (s *server) Validate(ctx context.Context, req *pb.Validate_Request) (*pb.Validate_Response, error) {
	spec := wire.SpecFromPB(req.GetDeployment())
	var diags []Diagnostic
	var verr core.ValidationError
	if err := spec.Validate(); errors.As(err, &verr) {
		for _, fe := range verr {
			diags = append(diags, Diagnostic{Severity: SeverityError, Summary: fe.Message, Path: fe.Path})
		}
	}
	vreq := &ValidateRequest{Deployment: spec}
	if len(req.GetConfigJson()) > 0 {
		if !s.offline() {
			return nil, s.unsupported("validate without configure")
		}
		cfg, err := s.info.ConfigSchema.Normalize(req.GetConfigJson())
		if err != nil {
			return nil, errorToStatus(err)
		}
		vreq.Instance, vreq.Config = req.GetInstance(), cfg
	}
	resp, err := s.impl.Validate(ctx, vreq)
	if err != nil {
		return nil, errorToStatus(err)
	}
	diags = append(diags, resp.Diagnostics...)
	return &pb.Validate_Response{Diagnostics: diagnosticsToPB(diags)}, nil
}

func (s *server) Plan(ctx context.Context, req *pb.Plan_Request) (*pb.Plan_Response, error) {
	spec := wire.SpecFromPB(req.GetDeployment())
	if err := spec.Validate(); err != nil {
		return nil, errorToStatus(err)
	}
	resp, err := s.impl.Plan(ctx, &PlanRequest{Deployment: spec, PriorState: req.GetPriorState()})
	if err != nil {
		return nil, errorToStatus(err)
	}
	return planToPB(resp), nil
}

func (s *server) Apply(req *pb.Apply_Request, stream pb.Backend_ApplyServer) error {
	spec := wire.SpecFromPB(req.GetDeployment())
	if err := spec.Validate(); err != nil {
		return errorToStatus(err)
	}
	var mu sync.Mutex
	progress := func(e core.Event) {
		mu.Lock()
		defer mu.Unlock()
		// A send error means the host is gone; the context ends the apply.
		_ = stream.Send(&pb.Apply_Response{Message: &pb.Apply_Response_Event{Event: wire.EventToPB(e)}})
	}
	started := time.Now()
	var cancelled atomic.Int64 // when the context ended, in Unix nanoseconds
	stop := context.AfterFunc(stream.Context(), func() { cancelled.Store(time.Now().UnixNano()) })
	resp, err := s.impl.Apply(stream.Context(), &ApplyRequest{
		Deployment: spec, PriorState: req.GetPriorState(), Secrets: req.GetSecrets(),
	}, progress)
	stop()
	logApplyEnded(stream.Context(), spec.Ref(), err, started, cancelled.Load())
	if resp != nil {
		mu.Lock()
		serr := stream.Send(&pb.Apply_Response{Message: &pb.Apply_Response_Result{
			Result: &pb.Apply_Result{State: resp.State},
		}})
		mu.Unlock()
		if err == nil && serr != nil {
			return serr
		}
	}
	if err == nil && resp == nil {
		err = errors.New("backend returned neither a result nor an error from apply")
	}
	return errorToStatus(err)
}

// logApplyEnded writes the debug line "apply ended" by which the conformance
// kit sees, from outside, when and how a backend's Apply returned: whether
// its context had ended, whether it returned a cancellation error, how long
// it ran, and how long after its context ended. The host's own call returns
// as soon as its context ends, so only the plugin's side can show that the
// backend stopped too.
func logApplyEnded(ctx context.Context, ref core.DeploymentRef, err error, started time.Time, cancelledNano int64) {
	now := time.Now()
	afterCancel := time.Duration(0)
	if cancelledNano != 0 {
		afterCancel = now.Sub(time.Unix(0, cancelledNano))
	}
	hclog.Default().Debug("apply ended", "deployment", ref.String(),
		"context_done", ctx.Err() != nil,
		"cancelled", errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded),
		"failed", err != nil, "elapsed", now.Sub(started).String(), "after_cancel", afterCancel.String())
}

func (s *server) Destroy(ctx context.Context, req *pb.Destroy_Request) (*pb.Destroy_Response, error) {
	ref, state := wire.TargetFromPB(req.GetTarget())
	_, err := s.impl.Destroy(ctx, &DestroyRequest{Deployment: ref, State: state, RemoveData: req.GetRemoveData()})
	return &pb.Destroy_Response{}, errorToStatus(err)
}

func (s *server) Status(ctx context.Context, req *pb.Status_Request) (*pb.Status_Response, error) {
	ref, state := wire.TargetFromPB(req.GetTarget())
	resp, err := s.impl.Status(ctx, &StatusRequest{Deployment: ref, State: state})
	if err != nil {
		return nil, errorToStatus(err)
	}
	return &pb.Status_Response{Status: wire.StatusToPB(&resp.Status)}, nil
}

func (s *server) Restart(ctx context.Context, req *pb.Restart_Request) (*pb.Restart_Response, error) {
	r, ok := s.impl.(Restarter)
	if !ok {
		return nil, s.unsupported("restart")
	}
	ref, state := wire.TargetFromPB(req.GetTarget())
	resp, err := r.Restart(ctx, &RestartRequest{Deployment: ref, State: state, Service: req.GetService()})
	if err != nil {
		return nil, errorToStatus(err)
	}
	return &pb.Restart_Response{State: resp.State}, nil
}

func (s *server) Start(ctx context.Context, req *pb.Start_Request) (*pb.Start_Response, error) {
	r, ok := s.impl.(StartStopper)
	if !ok {
		return nil, s.unsupported("start")
	}
	ref, state := wire.TargetFromPB(req.GetTarget())
	resp, err := r.Start(ctx, &StartRequest{Deployment: ref, State: state, Service: req.GetService()})
	if err != nil {
		return nil, errorToStatus(err)
	}
	return &pb.Start_Response{State: resp.State}, nil
}

func (s *server) Stop(ctx context.Context, req *pb.Stop_Request) (*pb.Stop_Response, error) {
	r, ok := s.impl.(StartStopper)
	if !ok {
		return nil, s.unsupported("stop")
	}
	ref, state := wire.TargetFromPB(req.GetTarget())
	resp, err := r.Stop(ctx, &StopRequest{Deployment: ref, State: state, Service: req.GetService()})
	if err != nil {
		return nil, errorToStatus(err)
	}
	return &pb.Stop_Response{State: resp.State}, nil
}

func (s *server) Scale(ctx context.Context, req *pb.Scale_Request) (*pb.Scale_Response, error) {
	r, ok := s.impl.(Scaler)
	if !ok {
		return nil, s.unsupported("scale")
	}
	if n := req.GetReplicas(); n < 0 || n > core.MaxReplicas {
		return nil, status.Errorf(codes.InvalidArgument, "scale %q: %d replicas is outside 0..%d", req.GetService(), n, core.MaxReplicas)
	}
	ref, state := wire.TargetFromPB(req.GetTarget())
	resp, err := r.Scale(ctx, &ScaleRequest{
		Deployment: ref, State: state, Service: req.GetService(), Replicas: int(req.GetReplicas()),
	})
	if err != nil {
		return nil, errorToStatus(err)
	}
	return &pb.Scale_Response{State: resp.State}, nil
}

func (s *server) Logs(req *pb.Logs_Request, stream pb.Backend_LogsServer) error {
	r, ok := s.impl.(LogStreamer)
	if !ok {
		return s.unsupported("logs")
	}
	ref, state := wire.TargetFromPB(req.GetTarget())
	send := func(l LogLine) error {
		return stream.Send(&pb.LogLine{
			TimeUnixNano: wire.UnixNano(l.Time), Service: l.Service, Replica: l.Replica,
			Stream: string(l.Stream), Message: []byte(l.Message),
		})
	}
	err := r.Logs(stream.Context(), &LogsRequest{
		Deployment: ref, State: state, Service: req.GetService(), Replica: req.GetReplica(),
		Follow: req.GetFollow(), Tail: int(req.GetTail()), Since: wire.FromUnixNano(req.GetSinceUnixNano()),
	}, send)
	if err != nil && stream.Context().Err() != nil {
		return nil // the host hung up: a followed stream ends this way
	}
	return errorToStatus(err)
}

func (s *server) Metrics(ctx context.Context, req *pb.Metrics_Request) (*pb.Metrics_Response, error) {
	r, ok := s.impl.(MetricsReader)
	if !ok {
		return nil, s.unsupported("metrics")
	}
	ref, state := wire.TargetFromPB(req.GetTarget())
	resp, err := r.Metrics(ctx, &MetricsRequest{Deployment: ref, State: state, Service: req.GetService()})
	if err != nil {
		return nil, errorToStatus(err)
	}
	return &pb.Metrics_Response{Points: wire.MetricsToPB(resp.Points)}, nil
}

func (s *server) NodeHealth(ctx context.Context, _ *pb.NodeHealth_Request) (*pb.NodeHealth_Response, error) {
	r, ok := s.impl.(NodeHealthReporter)
	if !ok {
		return nil, s.unsupported("node_health")
	}
	resp, err := r.NodeHealth(ctx, &NodeHealthRequest{})
	if err != nil {
		return nil, errorToStatus(err)
	}
	return &pb.NodeHealth_Response{Nodes: wire.NodesToPB(resp.Nodes)}, nil
}

func (s *server) Exec(stream pb.Backend_ExecServer) error {
	r, ok := s.impl.(Executor)
	if !ok {
		return s.unsupported("exec")
	}
	first, err := stream.Recv()
	if err != nil {
		return err
	}
	start := first.GetStart()
	if start == nil {
		return status.Error(codes.InvalidArgument, "exec: the first message must be start")
	}
	ref, state := wire.TargetFromPB(start.GetTarget())
	req := &ExecRequest{
		Deployment: ref, State: state, Service: start.GetService(), Replica: start.GetReplica(),
		Command: start.GetCommand(), TTY: start.GetTty(), Stdin: start.GetStdin(),
		Size: TermSize{Rows: uint16(start.GetSize().GetRows()), Cols: uint16(start.GetSize().GetCols())},
	}
	out := &execOutput{stream: stream}
	resize := make(chan TermSize, 4)
	streams := ExecStreams{Stdout: out.writer(false), Stderr: out.writer(true), Resize: resize}
	stdinR, stdinW := io.Pipe()
	if req.Stdin {
		streams.Stdin = stdinR
	}
	go receiveExecInput(stream, stdinW, resize)
	resp, err := r.Exec(stream.Context(), req, streams)
	stdinR.Close()
	if err != nil {
		return errorToStatus(err)
	}
	return out.send(&pb.Exec_Output{Output: &pb.Exec_Output_ExitCode{ExitCode: int32(resp.ExitCode)}})
}

// receiveExecInput feeds stdin chunks and resizes from the host to the
// running command until the host closes its side.
func receiveExecInput(stream pb.Backend_ExecServer, stdin *io.PipeWriter, resize chan TermSize) {
	defer close(resize)
	defer stdin.Close()
	for {
		in, err := stream.Recv()
		if err != nil {
			return
		}
		switch {
		case in.GetStdinClose():
			stdin.Close()
		case in.GetResize() != nil:
			size := TermSize{Rows: uint16(in.GetResize().GetRows()), Cols: uint16(in.GetResize().GetCols())}
			select {
			case resize <- size:
			default: // the command is not reading resizes; drop rather than block stdin
			}
		case in.GetStdin() != nil:
			if _, err := stdin.Write(in.GetStdin()); err != nil {
				return
			}
		}
	}
}

// execOutput serializes output messages onto the stream, which allows one
// sender at a time.
type execOutput struct {
	mu     sync.Mutex
	stream pb.Backend_ExecServer
}

func (o *execOutput) send(m *pb.Exec_Output) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.stream.Send(m)
}

func (o *execOutput) writer(stderr bool) io.Writer {
	return writerFunc(func(p []byte) (int, error) {
		for off := 0; off < len(p); off += execChunk {
			chunk := append([]byte(nil), p[off:min(off+execChunk, len(p))]...)
			m := &pb.Exec_Output{Output: &pb.Exec_Output_Stdout{Stdout: chunk}}
			if stderr {
				m = &pb.Exec_Output{Output: &pb.Exec_Output_Stderr{Stderr: chunk}}
			}
			if err := o.send(m); err != nil {
				return off, err
			}
		}
		return len(p), nil
	})
}

// execChunk bounds one stdin or output message.
const execChunk = 256 << 10

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
