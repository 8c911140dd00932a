// Command release makes the project's releases (docs/releasing.md):
//
//	release build -version v0.2.0 -key key.asc [-platforms linux_amd64,...] [-cli PKG] [-plugin NAME=PKG ...]
//	release genkey -out DIR [-name NAME -email EMAIL]
//	release setversion [-root DIR] MODULE@vX.Y.Z ...
//	release tags [-root DIR] [-create] -version vX.Y.Z [MODULE ...]
//	release goproxy -version vX.Y.Z -out DIR [MODULE ...]
//
// build cross-compiles swarmctl and the plugins with -trimpath, CGO_ENABLED=0
// and -buildvcs=false, packs each binary alone in a zip whose every time is
// SOURCE_DATE_EPOCH (the commit time), writes one SHA256SUMS per product
// and signs it with a detached binary OpenPGP signature made at that same
// time, so that one commit gives byte-identical files in dist/<version>/.
// It also writes the module proxy (goproxy) that a plugin author outside the
// repository can "go get" the SDK from, and, with -image, saves the
// controller's image. setversion and tags prepare the per-module Go tags
// (core/v0.2.0, plugins/aws/v0.2.0).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

// modulePrefix is the import path every module of the repository starts with.
const modulePrefix = "github.com/alphaswarm/controller/"

// releasedModules are the modules versioned and tagged on their own, by
// folder. tools is not released.
var releasedModules = []string{
	"core", "sdk", "host", "examples",
	"plugins/compose", "plugins/kubernetes", "plugins/aws", "plugins/azure", "plugins/gcp",
}

// errUsage marks an error in the command line: main prints the usage too.
var errUsage = errors.New("usage")

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "release: %v\n", err)
		if errors.Is(err, errUsage) {
			fmt.Fprint(os.Stderr, usage)
		}
		os.Exit(1)
	}
}

const usage = `usage:
  release build -version vX.Y.Z -key KEY.asc [-out dist] [-platforms os_arch,...] [-cli PKG] [-plugin NAME=PKG ...] [-goproxy MODULE,...] [-image]
  release genkey -out DIR [-name NAME] [-email EMAIL]
  release setversion [-root DIR] MODULE@vX.Y.Z ...
  release tags [-root DIR] [-create] -version vX.Y.Z [MODULE ...]
  release goproxy [-root DIR] -version vX.Y.Z -out DIR [MODULE ...]
`

// run dispatches one subcommand.
func run(args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("name a subcommand: %w", errUsage)
	}
	cmds := map[string]func([]string, io.Writer) error{
		"build":      cmdBuild,
		"genkey":     cmdGenkey,
		"setversion": cmdSetVersion,
		"tags":       cmdTags,
		"goproxy":    cmdGoproxy,
	}
	cmd, ok := cmds[args[0]]
	if !ok {
		return fmt.Errorf("unknown subcommand %q: %w", args[0], errUsage)
	}
	return cmd(args[1:], stdout)
}

// newFlags returns a flag set that reports errors to run, not by exiting.
func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// parseFlags parses args and refuses stray arguments unless extra.
func parseFlags(fs *flag.FlagSet, args []string, extra bool) error {
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("parse %s flags: %v: %w", fs.Name(), err, errUsage)
	}
	if !extra && fs.NArg() > 0 {
		return fmt.Errorf("%s takes no argument %q: %w", fs.Name(), fs.Arg(0), errUsage)
	}
	return nil
}
