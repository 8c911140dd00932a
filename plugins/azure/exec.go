package azure

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/appcontainers/armappcontainers/v3"
	"github.com/gorilla/websocket"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/sdk"
)

// The replica exec endpoint's protocol, as the Azure CLI's client speaks
// it (azure-cli, src/azure-cli/azure/cli/command_modules/containerapp/
// _ssh_utils.py, WebSocketConnection and read_ssh; the same in
// azure-cli-extensions src/containerapp/azext_containerapp/_ssh_utils.py):
//
//   - URL: the container's execEndpoint from the replica (the CLI builds the
//     same wss://<proxy host>/subscriptions/<sub>/resourceGroups/<rg>/
//     containerApps/<app>/revisions/<rev>/replicas/<replica>/containers/
//     <container>/exec from the log stream endpoint's host), with the
//     command as one query parameter "command" (quote_plus encoded), and
//     the app's getAuthToken token as "Authorization: Bearer".
//   - Client frames: 0x00 0x00 + stdin bytes; 0x00 0x04 + {"Width": cols,
//     "Height": rows} for a terminal resize. There is no frame that closes
//     stdin: the session is a terminal, and the CLI tells the user to end
//     it with Ctrl-D (0x04), which a terminal's line discipline turns into
//     end of input.
//   - Server frames: a proxy byte 0 (forward) followed by a stream byte, 1
//     stdout or 2 stderr, then the data; proxy byte 1 is information text,
//     2 an error as JSON {"Error":{"Code","Message"}}. The CLI treats any
//     other stream byte as "Unexpected message received".
//   - End: the server closes the WebSocket when the command ends. No frame
//     carries an exit status (the CLI knows none and reads none), so the
//     plugin answers sdk.ExitCodeUnknown. A live run must confirm this
//     reading; docs/azure.md says so.
const (
	execProxyForward byte = 0
	execProxyInfo    byte = 1
	execProxyError   byte = 2
	execStdin        byte = 0
	execStdout       byte = 1
	execStderr       byte = 2
	execResize       byte = 4
	execEOT          byte = 0x04
)

// maxExecCommand bounds the command line sent in the endpoint's URL.
const maxExecCommand = 4096

// maxExecFrame bounds one frame read from the exec endpoint, so that the
// endpoint cannot make the plugin hold an unbounded message in memory.
const maxExecFrame = 1 << 20

// execTarget is one replica container's exec endpoint with the app's
// auth token. The token goes in a header only: never in an error or log.
type execTarget struct {
	replica, endpoint, token string
}

// Exec runs a command in one replica of a service (the first running one
// unless the request names one of the app's replicas) through the
// replica's exec endpoint, relaying stdin, stdout, stderr and terminal
// sizes until the endpoint closes the session. The endpoint gives no exit
// status: the answer's ExitCode is sdk.ExitCodeUnknown.
func (b *Backend) Exec(ctx context.Context, req *sdk.ExecRequest, streams sdk.ExecStreams) (*sdk.ExecResponse, error) {
	if b.cl == nil {
		return nil, errNotConfigured
	}
	st, err := decodeState(req.State)
	if err != nil {
		return nil, err
	}
	if req.Service == "" {
		return nil, fmt.Errorf("exec in deployment %s: name the service", req.Deployment)
	}
	if _, err := services(st, req.Deployment, req.Service); err != nil {
		return nil, err
	}
	line, err := execCommandLine(req.Command)
	if err != nil {
		return nil, err
	}
	t, err := b.execTarget(ctx, req.Deployment, req.Service, req.Replica)
	if err != nil {
		return nil, err
	}
	conn, err := b.dialExec(ctx, t, line)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	return relayExec(ctx, conn, t.replica, req, streams)
}

// execCommandLine joins the command into the one line the endpoint takes.
// Its quoting is not documented, so an argument that is empty or holds
// whitespace or a control character, which the line could not carry
// faithfully, is refused rather than run as something else.
func execCommandLine(cmd []string) (string, error) {
	if len(cmd) == 0 {
		return "", sdk.InvalidRequest("exec: the command is empty")
	}
	for i, a := range cmd {
		bad := a == "" || !utf8.ValidString(a) || strings.ContainsFunc(a, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) })
		if bad {
			return "", sdk.InvalidRequest("exec: argument %d of the command is empty or holds whitespace or a control character: "+
				"Azure's exec endpoint takes the command as one line without quoting, so wrap it in a script with no spaces or run a shell and type it", i)
		}
	}
	line := strings.Join(cmd, " ")
	if len(line) > maxExecCommand {
		return "", sdk.InvalidRequest("exec: the command line is %d bytes, more than the %d the exec endpoint's URL carries", len(line), maxExecCommand)
	}
	return line, nil
}

// execTarget picks the replica and its exec endpoint, and gets the app's
// auth token. A named replica must be one of the app's current replicas.
func (b *Backend) execTarget(ctx context.Context, ref core.DeploymentRef, svc, replica string) (execTarget, error) {
	reps, token, err := b.liveReplicas(ctx, ref, svc)
	if err != nil {
		return execTarget{}, err
	}
	for _, r := range reps {
		if r.Name == nil || r.Properties == nil || replica != "" && *r.Name != replica {
			continue
		}
		running := deref(r.Properties.RunningState) == string(armappcontainers.ContainerAppReplicaRunningStateRunning)
		if replica == "" && !running {
			continue
		}
		if !running {
			return execTarget{}, fmt.Errorf("exec in replica %s of service %s: the replica is %s, not running", *r.Name, svc, deref(r.Properties.RunningState))
		}
		endpoint, err := replicaExecEndpoint(r)
		if err != nil {
			return execTarget{}, err
		}
		return execTarget{replica: *r.Name, endpoint: endpoint, token: token}, nil
	}
	if replica != "" {
		return execTarget{}, sdk.NotFound("replica %q of service %s", replica, svc)
	}
	return execTarget{}, sdk.NotFound("a running replica of service %s", svc)
}

// replicaExecEndpoint is the exec endpoint of a replica's container: the
// one Azure gives, or, from API versions without execEndpoint, the one
// the Azure CLI builds from the log stream endpoint's host.
func replicaExecEndpoint(r *armappcontainers.Replica) (string, error) {
	for _, c := range r.Properties.Containers {
		if c.Name == nil || *c.Name != containerName {
			continue
		}
		raw := deref(c.ExecEndpoint)
		if raw == "" && c.LogStreamEndpoint != nil {
			raw = execFromLogStream(*c.LogStreamEndpoint)
		}
		u, err := url.Parse(raw)
		if err != nil || u.Scheme != "wss" || u.Host == "" || u.User != nil {
			return "", fmt.Errorf("exec in replica %s: Azure gave no wss:// exec endpoint for its container", *r.Name)
		}
		return raw, nil
	}
	return "", fmt.Errorf("exec in replica %s: the replica has no container %s", *r.Name, containerName)
}

// execFromLogStream swaps a log stream endpoint's last segments for exec:
// .../containers/<c>/logstream -> .../containers/<c>/exec, https -> wss.
func execFromLogStream(logStream string) string {
	u, err := url.Parse(logStream)
	if err != nil || u.Scheme != "https" || !strings.HasSuffix(u.Path, "/logstream") {
		return ""
	}
	u.Scheme, u.Path, u.RawQuery = "wss", strings.TrimSuffix(u.Path, "/logstream")+"/exec", ""
	return u.String()
}

// liveReplicas reads the replicas of the latest ready revision of a
// service's app, and the app's auth token.
func (b *Backend) liveReplicas(ctx context.Context, ref core.DeploymentRef, svc string) ([]*armappcontainers.Replica, string, error) {
	name := appName(b.cfg.NamePrefix, ref, svc)
	app, err := b.cl.apps.Get(ctx, b.cfg.ResourceGroup, name, nil)
	if err != nil {
		return nil, "", armError("read container app "+name, err)
	}
	if _, mine := owned(app.Tags, ref); !mine || app.Properties == nil || app.Properties.LatestReadyRevisionName == nil {
		return nil, "", sdk.NotFound("a ready revision of container app %s", name)
	}
	rev := *app.Properties.LatestReadyRevisionName
	reps, err := b.cl.replicas.ListReplicas(ctx, b.cfg.ResourceGroup, name, rev, nil)
	if err != nil {
		return nil, "", armError("list replicas of container app "+name, err)
	}
	tok, err := b.cl.apps.GetAuthToken(ctx, b.cfg.ResourceGroup, name, nil)
	if err != nil {
		return nil, "", armError("get the auth token of container app "+name, err)
	}
	if tok.Properties == nil || tok.Properties.Token == nil {
		return nil, "", fmt.Errorf("get the auth token of container app %s: the answer has no token", name)
	}
	return reps.Value, *tok.Properties.Token, nil
}

// dialExec opens the exec WebSocket, trusting what the ARM client trusts.
func (b *Backend) dialExec(ctx context.Context, t execTarget, line string) (*websocket.Conn, error) {
	u, _ := url.Parse(t.endpoint)
	q := u.Query()
	q.Set("command", line)
	u.RawQuery = q.Encode()
	d := websocket.Dialer{Proxy: http.ProxyFromEnvironment, HandshakeTimeout: 30 * time.Second, TLSClientConfig: b.tlsConfig()}
	conn, resp, err := d.DialContext(ctx, u.String(), http.Header{"Authorization": {"Bearer " + t.token}})
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	switch {
	case err == nil:
		conn.SetReadLimit(maxExecFrame)
		return conn, nil
	case resp != nil && (resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden):
		return nil, fmt.Errorf("exec in replica %s: the exec endpoint refused the app's auth token (%s); "+
			"the plugin's identity needs Microsoft.App/containerApps/getAuthToken/action", t.replica, resp.Status)
	case resp != nil && resp.StatusCode == http.StatusNotFound:
		return nil, sdk.NotFound("replica %s (the exec endpoint answered %s)", t.replica, resp.Status)
	case resp != nil:
		return nil, fmt.Errorf("exec in replica %s: the exec endpoint answered %s", t.replica, resp.Status)
	default:
		return nil, fmt.Errorf("exec in replica %s: connect to the exec endpoint: %w", t.replica, err)
	}
}

// tlsConfig is the TLS configuration of the plugin's HTTP client (which
// trusts ca_certificate besides the system's roots), nil for the default.
func (b *Backend) tlsConfig() *tls.Config {
	if tr, ok := b.http.Transport.(*http.Transport); ok && tr.TLSClientConfig != nil {
		return tr.TLSClientConfig.Clone()
	}
	return nil
}

// execConn serializes writes on the exec WebSocket (one writer at a time).
type execConn struct {
	mu   sync.Mutex
	conn *websocket.Conn
}

// send writes one client frame: a text frame when the bytes are UTF-8, as
// the Azure CLI sends them, binary otherwise.
func (c *execConn) send(stream byte, data []byte) error {
	frame := append([]byte{execProxyForward, stream}, data...)
	typ := websocket.BinaryMessage
	if utf8.Valid(frame) {
		typ = websocket.TextMessage
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.conn.WriteMessage(typ, frame)
}

func (c *execConn) resize(s sdk.TermSize) error {
	body, _ := json.Marshal(struct{ Width, Height uint16 }{s.Cols, s.Rows})
	return c.send(execResize, body)
}

// relayExec relays the session until the endpoint closes it (the command
// ended), the endpoint reports an error, or ctx ends.
func relayExec(ctx context.Context, conn *websocket.Conn, replica string, req *sdk.ExecRequest, streams sdk.ExecStreams) (*sdk.ExecResponse, error) {
	c := &execConn{conn: conn}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if req.TTY && req.Size.Rows > 0 && req.Size.Cols > 0 {
		if err := c.resize(req.Size); err != nil {
			return nil, fmt.Errorf("exec in replica %s: send the terminal size: %w", replica, err)
		}
	}
	go sendExecInput(c, req.Stdin, streams)
	err := readExecOutput(conn, replica, streams)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if err != nil {
		return nil, err
	}
	return &sdk.ExecResponse{ExitCode: sdk.ExitCodeUnknown}, nil
}

// sendExecInput copies stdin and terminal sizes to the endpoint. At the
// end of stdin (at once without stdin) it sends Ctrl-D: the protocol has
// no other end of input.
func sendExecInput(c *execConn, attach bool, streams sdk.ExecStreams) {
	if streams.Resize != nil {
		go func() {
			for s := range streams.Resize {
				if c.resize(s) != nil {
					return
				}
			}
		}()
	}
	if attach && streams.Stdin != nil {
		buf := make([]byte, 32<<10)
		for {
			n, err := streams.Stdin.Read(buf)
			if n > 0 && c.send(execStdin, buf[:n]) != nil {
				return
			}
			if err != nil {
				break
			}
		}
	}
	_ = c.send(execStdin, []byte{execEOT})
}

// readExecOutput writes the endpoint's stdout and stderr frames to
// streams until the endpoint closes the session (nil) or fails.
func readExecOutput(conn *websocket.Conn, replica string, streams sdk.ExecStreams) error {
	for {
		_, frame, err := conn.ReadMessage()
		if err != nil {
			return execEnded(replica, err)
		}
		if len(frame) == 0 {
			continue
		}
		switch frame[0] {
		case execProxyInfo: // "Connecting to the container...": not the command's output
		case execProxyError:
			return fmt.Errorf("exec in replica %s: the exec endpoint reported %s", replica, proxyErrorText(frame[1:]))
		case execProxyForward:
			if err := forwardExecOutput(frame, replica, streams); err != nil {
				return err
			}
		default:
			return fmt.Errorf("exec in replica %s: the exec endpoint sent a frame of unknown kind %d", replica, frame[0])
		}
	}
}

func forwardExecOutput(frame []byte, replica string, streams sdk.ExecStreams) error {
	if len(frame) < 2 {
		return fmt.Errorf("exec in replica %s: the exec endpoint sent a frame without a stream byte", replica)
	}
	var w io.Writer
	switch frame[1] {
	case execStdout:
		w = streams.Stdout
	case execStderr:
		w = streams.Stderr
	default:
		return fmt.Errorf("exec in replica %s: the exec endpoint sent output on unknown stream %d", replica, frame[1])
	}
	if w == nil {
		return nil
	}
	if _, err := w.Write(frame[2:]); err != nil {
		return fmt.Errorf("exec in replica %s: relay output: %w", replica, err)
	}
	return nil
}

// execEnded tells a session the endpoint closed (the command ended) from
// one that broke.
func execEnded(replica string, err error) error {
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		switch ce.Code {
		case websocket.CloseNormalClosure, websocket.CloseGoingAway, websocket.CloseNoStatusReceived:
			return nil
		}
		return fmt.Errorf("exec in replica %s: the exec endpoint closed the session with code %d %q", replica, ce.Code, ce.Text)
	}
	return fmt.Errorf("exec in replica %s: read from the exec endpoint: %w", replica, err)
}

// proxyErrorText reads the proxy's JSON error, or quotes what it sent.
func proxyErrorText(body []byte) string {
	var e struct {
		Error struct{ Code, Message string }
	}
	if json.Unmarshal(body, &e) == nil && e.Error.Code != "" {
		return e.Error.Code + ": " + e.Error.Message
	}
	if len(body) > 512 {
		body = body[:512]
	}
	return fmt.Sprintf("%q", body)
}
