package memory

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/alphaswarm/controller/sdk"
)

// Exec simulates a few commands inside a replica: echo, cat (stdin to
// stdout), env, hostname, stty size (with a TTY), exit N, and sh -c "exit N". Anything else fails
// with exit code 127, as a shell would.
func (b *Backend) Exec(ctx context.Context, req *sdk.ExecRequest, streams sdk.ExecStreams) (*sdk.ExecResponse, error) {
	if err := b.enter(ctx); err != nil {
		return nil, err
	}
	w, err := decodeWorld(req.State)
	if err != nil {
		return nil, err
	}
	s := w.service(req.Service)
	if s == nil {
		return nil, sdk.NotFound("service %q in deployment %s", req.Service, w.Deployment)
	}
	r, ok := pickReplica(s, req.Replica)
	if !ok {
		return nil, sdk.NotFound("running replica %q of service %q", req.Replica, req.Service)
	}
	term := &terminal{on: req.TTY, size: req.Size}
	go func() { // a terminal would redraw; the simulator remembers the size
		for size := range streams.Resize {
			term.resize(size)
		}
	}()
	return &sdk.ExecResponse{ExitCode: run(ctx, s, r, req.Command, streams, term)}, nil
}

// terminal is the simulated replica's terminal, when the exec asked for one.
type terminal struct {
	on   bool
	mu   sync.Mutex
	size sdk.TermSize
}

func (t *terminal) resize(s sdk.TermSize) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.size = s
}

// stty answers "stty size" as a terminal would: rows and columns.
func (t *terminal) stty(streams sdk.ExecStreams) int {
	if !t.on {
		fmt.Fprintln(streams.Stderr, "stty: 'standard input': Inappropriate ioctl for device")
		return 1
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	fmt.Fprintf(streams.Stdout, "%d %d\n", t.size.Rows, t.size.Cols)
	return 0
}

func pickReplica(s *service, id string) (replica, bool) {
	for _, r := range s.Replicas {
		if id == "" || r.ID == id {
			return r, true
		}
	}
	return replica{}, false
}

func run(ctx context.Context, s *service, r replica, argv []string, streams sdk.ExecStreams, term *terminal) int {
	if len(argv) == 3 && argv[0] == "sh" && argv[1] == "-c" {
		argv = strings.Fields(argv[2])
	}
	if len(argv) == 0 {
		fmt.Fprintln(streams.Stderr, "exec: no command given")
		return 126
	}
	switch argv[0] {
	case "echo":
		fmt.Fprintln(streams.Stdout, strings.Join(argv[1:], " "))
	case "stty":
		if len(argv) == 2 && argv[1] == "size" {
			return term.stty(streams)
		}
		fmt.Fprintln(streams.Stderr, "stty: only \"stty size\" is simulated")
		return 1
	case "hostname":
		fmt.Fprintln(streams.Stdout, r.ID)
	case "env":
		for _, k := range slices.Sorted(maps.Keys(s.Spec.Env)) {
			fmt.Fprintf(streams.Stdout, "%s=%s\n", k, s.Spec.Env[k])
		}
	case "cat":
		if streams.Stdin != nil {
			copyUntil(ctx, streams.Stdout, streams.Stdin)
		}
	case "exit":
		if len(argv) > 1 {
			if code, err := strconv.Atoi(argv[1]); err == nil {
				return code
			}
		}
	default:
		fmt.Fprintf(streams.Stderr, "%s: command not found (simulated replica)\n", argv[0])
		return 127
	}
	return 0
}

// copyUntil copies src to dst until EOF or until ctx ends.
func copyUntil(ctx context.Context, dst io.Writer, src io.Reader) {
	done := make(chan struct{})
	go func() {
		io.Copy(dst, src)
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
	}
}
