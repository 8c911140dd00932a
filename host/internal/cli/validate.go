package cli

import (
	"context"
	"fmt"
	"time"
)

func runValidate(e env, args []string) int {
	fs := newFlags(e, "validate", "validate [flags] [DIR]")
	var tf topologyFlags
	tf.register(fs.FlagSet)
	pos, code, ok := fs.parse(args, "[DIR]")
	if !ok {
		return code
	}
	dir := dirArg(pos)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	s, m, diags := tf.checkOffline(ctx, dir)
	if m != nil {
		defer m.Close()
	}
	if tf.asJSON {
		writeJSON(e, map[string]any{
			"valid": !diags.HasErrors(), "error_count": countSeverity(diags, true), "warning_count": countSeverity(diags, false),
			"diagnostics": toJSONDiagnostics(diags, s.Topology.Files),
		})
	} else {
		printDiagnostics(e, diags, s.Topology.Files)
	}
	if diags.HasErrors() {
		return exitError
	}
	if !tf.asJSON {
		fmt.Fprintf(e.stdout, "Success! %s is valid: %d deployments on %d backends.\n", dir, len(s.Topology.Deployments), len(s.Topology.Backends))
	}
	return exitOK
}
