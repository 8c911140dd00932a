package apiclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/gorilla/websocket"

	"github.com/alphaswarm/controller/host/internal/api/wire"
	"github.com/alphaswarm/controller/sdk"
)

// ExecOptions describe a command to run in a replica.
type ExecOptions struct {
	Command    []string
	Replica    string
	TTY        bool
	Rows, Cols uint16
	Stdin      io.Reader // nil: no input
	Stdout     io.Writer
	Stderr     io.Writer
	// Resize delivers terminal size changes while the command runs.
	Resize <-chan [2]uint16
}

// Exec runs a command in a replica of service and returns its exit code,
// sdk.ExitCodeUnknown when the backend did not report it.
func (c *Client) Exec(ctx context.Context, ref Ref, service string, opts ExecOptions) (int, error) {
	q := url.Values{"command": opts.Command}
	if opts.Replica != "" {
		q.Set("replica", opts.Replica)
	}
	if opts.TTY {
		q.Set("tty", "true")
		if opts.Rows > 0 && opts.Cols > 0 {
			q.Set("rows", strconv.Itoa(int(opts.Rows)))
			q.Set("cols", strconv.Itoa(int(opts.Cols)))
		}
	}
	u := strings.Replace(c.base.String(), "http", "ws", 1) + ref.path("/services/"+url.PathEscape(service)+"/"+string(wire.OpExec), q)
	conn, resp, err := websocket.DefaultDialer.DialContext(ctx, u, http.Header{"Authorization": {"Bearer " + c.token}})
	if err != nil {
		if resp != nil {
			defer resp.Body.Close()
			return -1, problem(resp)
		}
		return -1, &UnreachableError{Host: c.base.Host, Err: err}
	}
	defer conn.Close()
	done := make(chan struct{})
	defer close(done)
	go func() { // an interrupted session ends the connection, so reads end
		select {
		case <-ctx.Done():
			conn.Close()
		case <-done:
		}
	}()
	s := &execSession{conn: conn}
	go s.pumpInput(ctx, opts)
	code, err := s.readOutput(opts)
	if err != nil && ctx.Err() != nil {
		return -1, ctx.Err()
	}
	return code, err
}

type execSession struct {
	conn *websocket.Conn
	mu   sync.Mutex
}

func (s *execSession) write(stream byte, p []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conn.WriteMessage(websocket.BinaryMessage, append([]byte{stream}, p...))
}

func (s *execSession) writeControl(c wire.ExecControl) error {
	b, _ := json.Marshal(c)
	return s.write(wire.StreamControl, b)
}

// pumpInput sends stdin and resizes; at the end of stdin it says so.
func (s *execSession) pumpInput(ctx context.Context, opts ExecOptions) {
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case size, ok := <-opts.Resize:
				if !ok {
					return
				}
				s.writeControl(wire.ExecControl{Type: wire.ControlResize, Rows: size[0], Cols: size[1]})
			}
		}
	}()
	if opts.Stdin != nil {
		buf := make([]byte, 32<<10)
		for {
			n, err := opts.Stdin.Read(buf)
			if n > 0 && s.write(wire.StreamStdin, buf[:n]) != nil {
				return
			}
			if err != nil {
				break
			}
		}
	}
	s.writeControl(wire.ExecControl{Type: wire.ControlCloseStdin})
}

func (s *execSession) readOutput(opts ExecOptions) (int, error) {
	for {
		_, msg, err := s.conn.ReadMessage()
		if err != nil {
			return -1, fmt.Errorf("exec session ended without an exit code: %w", err)
		}
		if len(msg) == 0 {
			continue
		}
		switch msg[0] {
		case wire.StreamStdout:
			opts.Stdout.Write(msg[1:])
		case wire.StreamStderr:
			opts.Stderr.Write(msg[1:])
		case wire.StreamControl:
			var c wire.ExecControl
			if err := json.Unmarshal(msg[1:], &c); err != nil {
				return -1, fmt.Errorf("decode exec control message: %w", err)
			}
			if c.Type == wire.ControlError {
				return -1, errors.New(c.Message)
			}
			if c.Type == wire.ControlExit && c.ExitUnknown {
				return sdk.ExitCodeUnknown, nil
			}
			if c.Type == wire.ControlExit {
				return c.Code, nil
			}
		}
	}
}
