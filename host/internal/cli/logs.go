package cli

import (
	"fmt"
	"strings"

	"github.com/alphaswarm/controller/host/internal/api/wire"
	"github.com/alphaswarm/controller/host/internal/apiclient"
)

func runLogs(e env, args []string) int {
	fs := newFlags(e, string(wire.OpLogs), "logs [flags] TENANT/NAME SERVICE")
	var rf remoteFlags
	rf.register(fs.FlagSet)
	follow := fs.Bool("f", false, "follow: keep printing new lines, as docker logs -f")
	tail := fs.Int("tail", -1, "show only the last N lines of each replica (-1: all)")
	since := fs.Duration("since", 0, "show only lines newer than this, such as 10m")
	pos, code, ok := fs.parse(args, "TENANT/NAME", "SERVICE")
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
	ctx, cancel := interrupted()
	defer cancel()
	err = c.Logs(ctx, ref, pos[1], apiclient.LogsOptions{Follow: *follow, Tail: *tail, Since: *since}, func(l wire.LogLine) {
		if rf.asJSON {
			writeJSONLine(e, l)
			return
		}
		out := e.stdout
		if l.Stream == "stderr" {
			out = e.stderr
		}
		fmt.Fprintf(out, "%s | %s\n", l.Replica, strings.TrimRight(l.Message, "\n"))
	})
	if err != nil && ctx.Err() == nil {
		return e.remoteError(err)
	}
	return exitOK
}
