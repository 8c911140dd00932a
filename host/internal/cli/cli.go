// Package cli implements the swarmctl command line: one function per
// command, each parsing its own flags and returning an exit code.
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/alphaswarm/controller/host/internal/api/wire"
)

// Exit codes, as Terraform and kubectl use them.
const (
	exitOK          = 0
	exitError       = 1
	exitUsage       = 2
	exitInterrupted = 130 // as a shell reports a command ended by a signal
)

// env holds a command's output streams.
type env struct {
	stdout, stderr io.Writer
}

func (e env) errorf(format string, args ...any) int {
	fmt.Fprintf(e.stderr, "Error: "+format+"\n", args...)
	return exitError
}

type command struct {
	name, summary string
	run           func(env, []string) int
}

func commands() []command {
	return []command{
		{"version", "Print the version of swarmctl and its plugin protocol", runVersion},
		{"validate", "Check a topology directory and its backends' configuration", runValidate},
		{"fmt", "Rewrite topology files in the canonical format", runFmt},
		{string(wire.OpPlan), "Show what applying a topology would change (-local: without a controller)", runPlan},
		{string(wire.OpApply), "Apply a topology through the controller, showing progress", runApply},
		{"status", "List deployments, or show one with its services and revisions", runStatus},
		{string(wire.OpLogs), "Print a service's logs (-f to follow)", runLogs},
		{string(wire.OpExec), "Run a command in a service's replica (-it for a terminal)", runExec},
		{string(wire.OpRestart), "Restart a deployment or one of its services", runOperation(wire.OpRestart)},
		{string(wire.OpStart), "Start a stopped deployment or service", runOperation(wire.OpStart)},
		{string(wire.OpStop), "Stop a deployment or service, keeping it", runOperation(wire.OpStop)},
		{string(wire.OpScale), "Set a service's replica count", runScale},
		{string(wire.OpDestroy), "Remove a deployment from its backend", runDestroy},
		{string(wire.OpRollback), "Apply an earlier revision of a deployment again", runRollback},
		{"jobs", "Show a job, or follow its events (-f)", runJobs},
		{"plugins", "List backend plugins, or lock their hashes", runPlugins},
		{"server", "Run the host: the API, the job workers and health checks", runServer},
		{"config", "Print the effective settings, secrets redacted", runConfig},
		{"dev", "Run the server for a laptop, with a local token issuer; dev token mints tokens", runDev},
	}
}

// Main runs swarmctl with args (without the program name).
func Main(args []string, stdout, stderr io.Writer) int {
	e := env{stdout: stdout, stderr: stderr}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" {
		usage(stdout)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(e, args[1:])
		}
	}
	fmt.Fprintf(stderr, "Error: unknown command %q\n\n", args[0])
	usage(stderr)
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: swarmctl <command> [flags]")
	fmt.Fprintln(w, "\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun \"swarmctl <command> -h\" for a command's flags.")
}

// newFlags returns a flag set that reports errors on e.stderr.
func newFlags(e env, name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: swarmctl %s\n\nFlags:\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses args and maps flag errors to exit codes; ok is false when the
// command should return code.
func parse(fs *flag.FlagSet, args []string) (code int, ok bool) {
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return exitOK, false
	case err != nil:
		return exitUsage, false
	case fs.NArg() > 0:
		fmt.Fprintf(fs.Output(), "Error: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return exitUsage, false
	}
	return exitOK, true
}

// usageError reports a bad argument with the command's usage.
func (e env) usageError(fs *flag.FlagSet, err error) int {
	fmt.Fprintf(e.stderr, "Error: %v\n", err)
	fs.Usage()
	return exitUsage
}

// parseError maps a flag parsing error to an exit code: -h is not a failure.
func parseError(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	return exitUsage
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// defaultPluginDirs is where plugins are looked for without -plugin-dir:
// $ALPHASWARM_PLUGIN_DIR (a path list), else "plugins" beside the swarmctl
// binary (where "make build" puts them) and ~/.alphaswarm/plugins.
func defaultPluginDirs() []string {
	if v := os.Getenv("ALPHASWARM_PLUGIN_DIR"); v != "" {
		return filepath.SplitList(v)
	}
	var dirs []string
	if exe, err := os.Executable(); err == nil {
		if resolved, err := filepath.EvalSymlinks(exe); err == nil {
			exe = resolved
		}
		dirs = append(dirs, filepath.Join(filepath.Dir(exe), "plugins"))
	}
	if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, ".alphaswarm", "plugins"))
	}
	return dirs
}
