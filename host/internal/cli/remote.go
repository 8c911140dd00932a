package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
	"golang.org/x/term"

	"github.com/alphaswarm/controller/core/connectivity"
	"github.com/alphaswarm/controller/host/internal/api/wire"
	"github.com/alphaswarm/controller/host/internal/apiclient"
	"github.com/alphaswarm/controller/host/internal/topology"
)

// The commands that talk to a controller read its URL from
// ALPHASWARM_CONTROLLER_URL and the access token from ALPHASWARM_TOKEN.

// stdin and isTerminal are the input of confirmations and interactive exec;
// tests replace them.
var (
	stdin      io.Reader = os.Stdin
	isTerminal           = func() bool { return term.IsTerminal(int(os.Stdin.Fd())) }
)

// remoteFlags are the flags every controller command takes.
type remoteFlags struct {
	env    string
	asJSON bool
}

func (f *remoteFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.env, "env", "", "the deployment's environment, when its name exists in several")
	fs.BoolVar(&f.asJSON, "json", false, "print as JSON")
}

// connect returns a client of the configured controller.
func connect() (*apiclient.Client, error) {
	settings, err := connectivity.Load(os.Getenv)
	if err != nil {
		return nil, err
	}
	return apiclient.New(settings.Controller.String(), os.Getenv("ALPHASWARM_TOKEN"))
}

// remoteError prints err, with a topology's diagnostics one per line.
func (e env) remoteError(err error) int {
	var pe *apiclient.Error
	if errors.As(err, &pe) && len(pe.Diagnostics) > 0 {
		for _, d := range pe.Diagnostics {
			fmt.Fprintln(e.stderr, d.String())
		}
	}
	code := e.errorf("%v", err)
	var unreachable *apiclient.UnreachableError
	if errors.As(err, &unreachable) {
		fmt.Fprintln(e.stderr, "Is the controller running? \"swarmctl dev\" runs one on this machine; ALPHASWARM_CONTROLLER_URL names another.\n"+
			"\"swarmctl plan -local\" plans without a controller.")
	}
	return code
}

// topologyRequest reads the .hcl files of dir and the variables given by
// ALPHASWARM_VAR_* variables, -var-file files and -var flags, later ones
// winning, as the local loader orders them.
func topologyRequest(dir string, vars, varFiles []string) (wire.TopologyRequest, error) {
	req := wire.TopologyRequest{Files: map[string]string{}, Variables: map[string]string{}}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return req, fmt.Errorf("read topology directory: %w", err)
	}
	for _, en := range entries {
		if en.IsDir() || !strings.HasSuffix(en.Name(), ".hcl") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, en.Name()))
		if err != nil {
			return req, fmt.Errorf("read topology file: %w", err)
		}
		req.Files[en.Name()] = string(b)
	}
	for _, kv := range os.Environ() {
		if name, value, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(name, topology.EnvPrefix) {
			req.Variables[strings.TrimPrefix(name, topology.EnvPrefix)] = value
		}
	}
	for _, path := range varFiles {
		if err := readVarFile(path, req.Variables); err != nil {
			return req, err
		}
	}
	for _, v := range vars {
		name, value, ok := strings.Cut(v, "=")
		if !ok {
			return req, fmt.Errorf("-var %q is not name=value", v)
		}
		req.Variables[name] = value
	}
	return req, nil
}

// readVarFile reads an HCL variables file into -var style values: a
// string as it is, anything else as an HCL expression.
func readVarFile(path string, into map[string]string) error {
	src, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read variables file: %w", err)
	}
	f, diags := hclparse.NewParser().ParseHCL(src, path)
	if diags.HasErrors() {
		return fmt.Errorf("read variables file: %s", diags.Error())
	}
	attrs, diags := f.Body.JustAttributes()
	if diags.HasErrors() {
		return fmt.Errorf("read variables file: %s", diags.Error())
	}
	for name, a := range attrs {
		v, diags := a.Expr.Value(nil)
		if diags.HasErrors() {
			return fmt.Errorf("read variables file: %s", diags.Error())
		}
		if v.Type() == cty.String && v.IsKnown() && !v.IsNull() {
			into[name] = v.AsString()
		} else {
			into[name] = string(hclwrite.TokensForValue(v).Bytes())
		}
	}
	return nil
}

// confirm asks a yes/no question on a terminal, as terraform apply does.
func (e env) confirm(question string) (bool, error) {
	if !isTerminal() {
		return false, errors.New("confirmation needed but standard input is not a terminal: pass -auto-approve")
	}
	fmt.Fprintf(e.stdout, "%s\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: ", question)
	var answer string
	fmt.Fscanln(stdin, &answer)
	return answer == "yes", nil
}

// interrupted is a context that ends on Ctrl-C or SIGTERM.
func interrupted() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}
