package fakearm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/websocket"
)

// The framing of the replica exec endpoint, as the Azure CLI's
// containerapp _ssh_utils.py speaks it: every frame starts with a proxy
// byte; a forwarded frame has a second byte naming the container stream.
const (
	proxyForward byte = 0 // a container stream follows
	proxyInfo    byte = 1 // text for the user from the proxy
	proxyError   byte = 2 // a JSON error from the proxy

	streamStdin  byte = 0
	streamStdout byte = 1
	streamStderr byte = 2
	streamResize byte = 4 // {"Width": cols, "Height": rows}

	eot byte = 0x04 // Ctrl-D: a terminal's end of input
)

// reExec is the exec endpoint of a replica container, as Azure lays it
// out under the environment's proxy host.
var reExec = regexp.MustCompile(`(?i)^/subscriptions/([^/]+)/resourceGroups/([^/]+)/containerApps/([^/]+)/revisions/([^/]+)/replicas/([^/]+)/containers/([^/]+)/exec$`)

var execUpgrader = websocket.Upgrader{HandshakeTimeout: 5 * time.Second}

// execEndpoint is the wss:// URL of a replica container's exec endpoint.
func (s *Server) execEndpoint(a *app, rev *revision, rp *replica, container string) string {
	path := strings.Replace(deref(a.model.ID, ""), "/providers/Microsoft.App", "", 1)
	return fmt.Sprintf("%s%s/revisions/%s/replicas/%s/containers/%s/exec", strings.Replace(s.URL(), "https://", "wss://", 1), path, rev.name, rp.name, container)
}

// ExpireAuthToken makes the auth token issued for the app named name
// expired, as the endpoints see one an hour after getAuthToken; the next
// getAuthToken issues a new one.
func (s *Server) ExpireAuthToken(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range s.apps {
		if deref(a.model.Name, "") == name {
			a.tokenExpires = time.Now().Add(-time.Second)
		}
	}
}

// appTokenValid reports whether r carries the app's current, unexpired
// auth token. Call it with mu held.
func appTokenValid(a *app, r *http.Request) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && a != nil && a.token != "" && tok == a.token && time.Now().Before(a.tokenExpires)
}

// exec serves a replica container's exec endpoint: a WebSocket for the
// bearer token the app's getAuthToken gave (401 before the upgrade
// otherwise, as Azure answers), running the command of the query parameter
// "command" in a simulated container. The fake has no containers and
// never starts a host program: it interprets the few commands tests use
// (cat, head -n N, echo, true, false, stty size, sh -c exit${IFS}N) and
// answers the others as a container runtime does a missing executable.
// The session ends with a normal close and no exit status, as the real
// endpoint's does.
func (s *Server) exec(w http.ResponseWriter, r *http.Request, m []string) {
	id := fmt.Sprintf("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.App/containerApps/%s", m[1], m[2], m[3])
	s.mu.Lock()
	s.settle()
	a, rev := s.findRevision(id, m[4])
	authorized := appTokenValid(a, r)
	found := rev != nil && !a.stopped && hasReplica(rev, m[5]) && hasContainer(a, m[6])
	s.mu.Unlock()
	switch {
	case !authorized:
		http.Error(w, "Unauthorized", http.StatusUnauthorized)
		return
	case !found:
		http.Error(w, "replica or container not found", http.StatusNotFound)
		return
	}
	conn, err := execUpgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer conn.Close()
	sess := &execSession{conn: conn, done: make(chan struct{}), resized: make(chan struct{})}
	stdin := make(chan []byte, 64)
	go sess.readInput(stdin)
	_ = sess.send(append([]byte{proxyInfo}, fmt.Sprintf("Connecting to the container '%s'...", m[6])...))
	sess.run(strings.Fields(r.URL.Query().Get("command")), stdin)
	_ = conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
}

func hasReplica(rev *revision, name string) bool {
	for _, rp := range rev.replicas {
		if rp.name == name {
			return true
		}
	}
	return false
}

func hasContainer(a *app, name string) bool {
	if a.model.Properties == nil || a.model.Properties.Template == nil {
		return false
	}
	for _, c := range a.model.Properties.Template.Containers {
		if deref(c.Name, "") == name {
			return true
		}
	}
	return false
}

// execSession is one simulated command with its WebSocket.
type execSession struct {
	conn    *websocket.Conn
	done    chan struct{} // closed when the command ended
	resized chan struct{} // closed at the first resize
	size    [2]int        // rows, cols of the first resize
}

func (e *execSession) send(frame []byte) error {
	return e.conn.WriteMessage(websocket.BinaryMessage, frame)
}

func (e *execSession) out(stream byte, text string) {
	_ = e.send(append([]byte{proxyForward, stream}, text...))
}

// readInput reads the client's frames until it goes: stdin until an EOT,
// which ends input as a terminal's line discipline does, and terminal
// sizes. It closes stdin at the end of input.
func (e *execSession) readInput(stdin chan<- []byte) {
	ended, gotSize := false, false
	endInput := func() {
		if !ended {
			ended = true
			close(stdin)
		}
	}
	defer endInput()
	for {
		_, msg, err := e.conn.ReadMessage()
		if err != nil {
			return
		}
		if len(msg) < 2 || msg[0] != proxyForward {
			continue
		}
		switch {
		case msg[1] == streamStdin && !ended:
			data := msg[2:]
			i := bytes.IndexByte(data, eot)
			if i >= 0 {
				data = data[:i]
			}
			if len(data) > 0 {
				select {
				case stdin <- data:
				case <-e.done:
					return
				}
			}
			if i >= 0 {
				endInput()
			}
		case msg[1] == streamResize && !gotSize:
			var sz struct{ Width, Height int }
			if json.Unmarshal(msg[2:], &sz) == nil {
				e.size, gotSize = [2]int{sz.Height, sz.Width}, true
				close(e.resized)
			}
		}
	}
}

// run simulates args in a container.
func (e *execSession) run(args []string, stdin <-chan []byte) {
	defer close(e.done)
	if len(args) == 0 {
		_ = e.send(append([]byte{proxyError}, `{"Error":{"Code":"InvalidCommand","Message":"The command must not be empty."}}`...))
		return
	}
	switch {
	case args[0] == "cat" && len(args) == 1:
		for data := range stdin {
			e.out(streamStdout, string(data))
		}
	case args[0] == "head" && len(args) == 3 && args[1] == "-n":
		n, err := strconv.Atoi(args[2])
		if err != nil || n < 0 {
			e.out(streamStderr, fmt.Sprintf("head: invalid number of lines: %q\r\n", args[2]))
			return
		}
		e.head(n, stdin)
	case args[0] == "echo":
		e.out(streamStdout, strings.Join(args[1:], " ")+"\n")
	case args[0] == "true" || args[0] == "false":
	case len(args) == 2 && args[0] == "stty" && args[1] == "size":
		select {
		case <-e.resized:
			e.out(streamStdout, fmt.Sprintf("%d %d\n", e.size[0], e.size[1]))
		case <-time.After(2 * time.Second):
			e.out(streamStderr, "stty: standard input: Inappropriate ioctl for device\r\n")
		}
	case len(args) == 3 && args[0] == "sh" && args[1] == "-c" && reShExit.MatchString(args[2]):
	default:
		e.out(streamStderr, fmt.Sprintf("OCI runtime exec failed: exec failed: unable to start container process: exec: %q: executable file not found in $PATH: unknown\r\n", args[0]))
	}
}

// reShExit matches the one shell script the fake runs: exit with a code.
var reShExit = regexp.MustCompile(`^exit(\$\{IFS\}[0-9]{1,3})?$`)

// head copies n lines of stdin to stdout.
func (e *execSession) head(n int, stdin <-chan []byte) {
	for data := range stdin {
		for len(data) > 0 && n > 0 {
			line, rest, found := bytes.Cut(data, []byte{'\n'})
			if found {
				line = append(line, '\n')
				n--
			}
			e.out(streamStdout, string(line))
			data = rest
		}
		if n == 0 {
			return
		}
	}
}
