package api

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/alphaswarm/controller/core/auth"
	"github.com/alphaswarm/controller/host/internal/api/wire"
	"github.com/alphaswarm/controller/sdk"
	"github.com/alphaswarm/controller/sdk/pluginhost"
)

// Limits of an exec request.
const (
	maxExecArgs     = 64
	maxExecArgBytes = 4096
	maxFrameBytes   = 1 << 20
)

var upgrader = websocket.Upgrader{
	HandshakeTimeout: 10 * time.Second,
	Subprotocols:     []string{wire.ExecSubprotocol},
	// Tokens travel in the Authorization header, never in cookies, so a
	// cross-site page cannot ride on a user's session; any origin may
	// connect with a token of its own.
	CheckOrigin: func(*http.Request) bool { return true },
}

func execQuery(r *http.Request) (sdk.ExecRequest, error) {
	q := r.URL.Query()
	req := sdk.ExecRequest{Command: q["command"], Replica: q.Get("replica"), Stdin: true}
	if len(req.Command) == 0 || len(req.Command) > maxExecArgs {
		return req, badRequest("command", "command must give 1..%d arguments (repeat ?command=)", maxExecArgs)
	}
	for _, a := range req.Command {
		if len(a) > maxExecArgBytes {
			return req, badRequest("command", "a command argument exceeds %d bytes", maxExecArgBytes)
		}
	}
	if v := q.Get("tty"); v != "" {
		tty, err := strconv.ParseBool(v)
		if err != nil {
			return req, badRequest("tty", "tty %q is not true or false", v)
		}
		req.TTY = tty
	}
	for field, into := range map[string]*uint16{"rows": &req.Size.Rows, "cols": &req.Size.Cols} {
		if v := q.Get(field); v != "" {
			n, err := strconv.ParseUint(v, 10, 16)
			if err != nil || n == 0 {
				return req, badRequest(field, "%s %q is not a terminal size in 1..65535", field, v)
			}
			*into = uint16(n)
		}
	}
	return req, nil
}

// exec runs a command in a replica over a WebSocket. Every check happens
// before the upgrade, so refusals are ordinary problem documents.
func (s *Server) exec(w http.ResponseWriter, r *http.Request) {
	var req sdk.ExecRequest
	t, err := s.target(r, auth.DeploymentsExec, wire.OpExec.AuditAction(), func() (err error) { req, err = execQuery(r); return err })
	if err != nil {
		s.fail(w, r, err)
		return
	}
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader answered already
	}
	defer conn.Close()
	conn.SetReadLimit(maxFrameBytes)
	req.Deployment, req.State, req.Service = t.d.Ref, t.d.State, t.service
	s.runExec(r.Context(), t.c, conn, req)
}

func (s *Server) runExec(ctx context.Context, c *pluginhost.Client, conn *websocket.Conn, req sdk.ExecRequest) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ws := &wsStreams{conn: conn}
	stdin, stdinW := io.Pipe()
	resize := make(chan sdk.TermSize, 8)
	go ws.readClient(cancel, stdinW, resize)
	resp, err := c.Exec(ctx, &req, sdk.ExecStreams{Stdin: stdin, Stdout: ws.stream(wire.StreamStdout), Stderr: ws.stream(wire.StreamStderr), Resize: resize})
	msg := wire.ExecControl{Type: wire.ControlExit}
	if err != nil {
		_, detail := status(err)
		msg = wire.ExecControl{Type: wire.ControlError, Message: detail}
	} else if resp.ExitKnown() {
		msg.Code = resp.ExitCode
	} else {
		msg.ExitUnknown = true
	}
	b, _ := json.Marshal(msg)
	ws.write(wire.StreamControl, b)
	ws.mu.Lock()
	conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	ws.mu.Unlock()
}

// wsStreams multiplexes exec streams over one WebSocket.
type wsStreams struct {
	conn *websocket.Conn
	mu   sync.Mutex // one writer at a time
}

func (ws *wsStreams) write(stream byte, p []byte) error {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	return ws.conn.WriteMessage(websocket.BinaryMessage, append([]byte{stream}, p...))
}

type streamWriter struct {
	ws     *wsStreams
	stream byte
}

func (w streamWriter) Write(p []byte) (int, error) {
	if err := w.ws.write(w.stream, p); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (ws *wsStreams) stream(id byte) io.Writer { return streamWriter{ws, id} }

// readClient feeds stdin and resizes from the client until it goes away,
// which cancels the command.
func (ws *wsStreams) readClient(cancel func(), stdin *io.PipeWriter, resize chan<- sdk.TermSize) {
	defer cancel()
	defer stdin.Close()
	for {
		_, msg, err := ws.conn.ReadMessage()
		if err != nil || len(msg) == 0 {
			return
		}
		switch msg[0] {
		case wire.StreamStdin:
			if _, err := stdin.Write(msg[1:]); err != nil {
				return
			}
		case wire.StreamControl:
			var c wire.ExecControl
			if json.Unmarshal(msg[1:], &c) != nil {
				continue
			}
			switch c.Type {
			case wire.ControlResize:
				select {
				case resize <- sdk.TermSize{Rows: c.Rows, Cols: c.Cols}:
				default:
				}
			case wire.ControlCloseStdin:
				stdin.Close()
			}
		}
	}
}
