package cli

import (
	"fmt"
	"os"
	"os/signal"

	"golang.org/x/term"

	"github.com/alphaswarm/controller/host/internal/api/wire"
	"github.com/alphaswarm/controller/host/internal/apiclient"
	"github.com/alphaswarm/controller/sdk"
)

func runExec(e env, args []string) int {
	fs := newFlags(e, string(wire.OpExec), "exec [flags] TENANT/NAME SERVICE [--] COMMAND [ARG...]")
	var rf remoteFlags
	fs.StringVar(&rf.env, "env", "", "the deployment's environment, when its name exists in several")
	interactive := fs.Bool("i", false, "keep standard input attached")
	tty := fs.Bool("t", false, "allocate a terminal")
	it := fs.Bool("it", false, "both -i and -t, as docker exec -it")
	replica := fs.String("replica", "", "run in this replica (default: the first ready one)")
	// Everything from the command's first word on is the command's, so
	// that "exec demo/hello web ls -l" runs "ls -l".
	pos, code, ok := fs.parse(args, "TENANT/NAME", "SERVICE", "COMMAND...")
	if !ok {
		return code
	}
	ref, err := apiclient.ParseRef(pos[0], rf.env)
	if err != nil {
		return fs.usageError("%v", err)
	}
	c, err := connect()
	if err != nil {
		return e.errorf("%v", err)
	}
	opts := apiclient.ExecOptions{Command: pos[2:], Replica: *replica, TTY: *tty || *it, Stdout: e.stdout, Stderr: e.stderr}
	if *interactive || *it {
		opts.Stdin = stdin
	}
	if opts.TTY {
		restore, resize, err := rawTerminal(&opts)
		if err != nil {
			return e.errorf("%v", err)
		}
		defer restore()
		opts.Resize = resize
	}
	ctx, cancel := interrupted()
	defer cancel()
	code, err = c.Exec(ctx, ref, pos[1], opts)
	switch {
	case err != nil && ctx.Err() != nil:
		fmt.Fprintln(e.stderr, "\r\nexec interrupted")
		return exitInterrupted
	case err != nil:
		return e.remoteError(err)
	case code == sdk.ExitCodeUnknown:
		fmt.Fprintln(e.stderr, exitUnknownNotice)
		return exitOK
	}
	return code
}

// exitUnknownNotice is what exec says when the backend ran the command but
// did not report how it ended (Azure Container Apps, for one); exec then
// exits 0, as the platform's own CLI does.
const exitUnknownNotice = "swarmctl: the command ended, but the backend does not report exit statuses: its exit status is unknown"

// rawTerminal puts the local terminal in raw mode for a TTY session and
// reports its size now and on every SIGWINCH.
func rawTerminal(opts *apiclient.ExecOptions) (restore func(), resize <-chan [2]uint16, err error) {
	in, out := int(os.Stdin.Fd()), int(os.Stdout.Fd())
	if !term.IsTerminal(in) {
		return nil, nil, fmt.Errorf("-t needs a terminal on standard input")
	}
	if w, h, err := term.GetSize(out); err == nil {
		opts.Cols, opts.Rows = uint16(w), uint16(h)
	}
	state, err := term.MakeRaw(in)
	if err != nil {
		return nil, nil, fmt.Errorf("set the terminal to raw mode: %w", err)
	}
	sizes := make(chan [2]uint16, 1)
	winch := make(chan os.Signal, 1)
	if len(resizeSignals) > 0 { // Notify with no signal would relay them all
		signal.Notify(winch, resizeSignals...)
	}
	go func() {
		for range winch {
			if w, h, err := term.GetSize(out); err == nil {
				select {
				case sizes <- [2]uint16{uint16(h), uint16(w)}:
				default:
				}
			}
		}
	}()
	return func() { signal.Stop(winch); term.Restore(in, state) }, sizes, nil
}
