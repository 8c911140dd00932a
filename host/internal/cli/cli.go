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
		{"healthcheck", "Exit 0 when the host at an address is ready (GET /readyz), 1 when not", runHealthcheck},
		{"config", "Print the effective settings, secrets redacted", runConfig},
		{"dev", "Run the server for a laptop, with a local token issuer; dev token mints tokens", runDev},
	}
}

// synopsis is swarmctl's own.
const synopsis = "<command> [flags] [arguments]"

// Main runs swarmctl with args (without the program name).
func Main(args []string, stdout, stderr io.Writer) int {
	e := env{stdout: stdout, stderr: stderr}
	if len(args) == 0 {
		return e.usageError("", synopsis, "no command given")
	}
	if args[0] == "help" || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" {
		if len(args) > 1 && args[0] == "help" {
			return Main([]string{args[1], "-h"}, stdout, stderr)
		}
		usage(stdout)
		return exitOK
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(e, args[1:])
		}
	}
	return e.usageError("", synopsis, "unknown command %q", args[0])
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: swarmctl "+synopsis)
	fmt.Fprintln(w, "\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nFlags may come before or after the arguments; \"--\" ends them.")
	fmt.Fprintln(w, "Run \"swarmctl <command> -h\" or \"swarmctl help <command>\" for a command's flags.")
}

// flags is a command's flag set with its synopsis.
type flags struct {
	*flag.FlagSet
	e env
	// synopsis is the command line after "swarmctl", as usage shows it.
	synopsis string
}

// newFlags returns the flag set of a command. Its errors go through
// usageError, and -h prints its help on stdout.
func newFlags(e env, name, synopsis string) *flags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return &flags{FlagSet: fs, e: e, synopsis: synopsis}
}

// help prints the command's synopsis and flags on stdout.
func (f *flags) help() {
	fmt.Fprintf(f.e.stdout, "Usage: swarmctl %s\n", f.synopsis)
	n := 0
	f.VisitAll(func(*flag.Flag) { n++ })
	if n > 0 {
		fmt.Fprintln(f.e.stdout, "\nFlags:")
		f.SetOutput(f.e.stdout)
		f.PrintDefaults()
		f.SetOutput(io.Discard)
	}
}

// usageError reports a usage error: what was wrong, then the synopsis of
// the command (name; "" for swarmctl itself), on stderr, and returns exit
// code 2. Every usage error of the CLI ends here.
func (e env) usageError(name, synopsis, format string, args ...any) int {
	fmt.Fprintf(e.stderr, "Error: "+format+"\n", args...)
	fmt.Fprintf(e.stderr, "Usage: swarmctl %s\n", synopsis)
	if name == "" {
		fmt.Fprintln(e.stderr, `Run "swarmctl help" for the commands.`)
	} else {
		fmt.Fprintf(e.stderr, "Run \"swarmctl %s -h\" for its flags.\n", name)
	}
	return exitUsage
}

// usageError is a usage error of this command.
func (f *flags) usageError(format string, args ...any) int {
	return f.e.usageError(f.Name(), f.synopsis, format, args...)
}

// parse reads a command line whose positional arguments are params:
// NAME is required, [NAME] optional, and a last NAME... takes the word
// that reaches it and every word after it, flags included (exec's
// command). Flags may come before, between and after the positional
// arguments, as kubectl and docker take them; "--" ends the flags. When
// ok is false the command returns code: 0 after -h, which printed the
// help, 2 after a usage error, which said what was wrong.
func (f *flags) parse(args []string, params ...string) (pos []string, code int, ok bool) {
	rest := len(params) > 0 && strings.HasSuffix(params[len(params)-1], "...")
	var flagArgs []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			pos = append(pos, args[i+1:]...)
			i = len(args)
		case rest && len(pos) == len(params)-1:
			pos = append(pos, args[i:]...) // the command's own words
			i = len(args)
		case len(a) > 1 && a[0] == '-':
			flagArgs = append(flagArgs, a)
			if f.takesValue(a) && i+1 < len(args) {
				i++
				flagArgs = append(flagArgs, args[i])
			}
		default:
			pos = append(pos, a)
		}
	}
	switch err := f.Parse(flagArgs); {
	case errors.Is(err, flag.ErrHelp):
		f.help()
		return nil, exitOK, false
	case err != nil:
		return nil, f.usageError("%s", flagError(err)), false
	}
	required := 0
	for _, p := range params {
		if !strings.HasPrefix(p, "[") {
			required++
		}
	}
	switch {
	case len(pos) < required:
		return nil, f.usageError("missing %s", strings.TrimSuffix(params[len(pos)], "...")), false
	case !rest && len(pos) > len(params):
		return nil, f.usageError("unexpected argument %q", pos[len(params)]), false
	}
	return pos, exitOK, true
}

// takesValue reports whether the flag argument a ("-name", "--name") is
// followed by its value: a known flag that is not boolean, not written as
// -name=value.
func (f *flags) takesValue(a string) bool {
	name := strings.TrimLeft(a, "-")
	if strings.Contains(name, "=") {
		return false
	}
	fl := f.Lookup(name)
	if fl == nil {
		return false
	}
	b, ok := fl.Value.(interface{ IsBoolFlag() bool })
	return !ok || !b.IsBoolFlag()
}

// flagError words an error of the flag package, naming an unknown flag.
func flagError(err error) string {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
		return "unknown flag " + name
	}
	return msg
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
