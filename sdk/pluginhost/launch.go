package pluginhost

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	hclog "github.com/hashicorp/go-hclog"
	plugin "github.com/hashicorp/go-plugin"

	pb "github.com/alphaswarm/controller/sdk/internal/backendv1"
	"github.com/alphaswarm/controller/sdk/internal/wire"
)

// LaunchConfig says how to start one plugin process.
type LaunchConfig struct {
	// Name identifies the plugin (or the backend instance it serves) in
	// errors and logs. It defaults to the binary's file name.
	Name string
	// Path is the plugin binary.
	Path string
	// Env is the plugin's entire environment: nothing of the host's own
	// environment is passed unless it is listed here.
	Env []string
	// Logger receives the plugin's log lines, named after the plugin.
	Logger hclog.Logger
	// StartTimeout bounds the handshake; it defaults to 10s.
	StartTimeout time.Duration
	// Stderr, when set, also receives the plugin's raw stderr.
	Stderr io.Writer
}

// Launch starts a plugin binary, completes the handshake over mutual TLS,
// reads the plugin's Info, and returns a connected Client. Every failure
// names the plugin and what went wrong, with the last lines the plugin wrote
// to stderr when it died.
func Launch(ctx context.Context, cfg LaunchConfig) (*Client, error) {
	name := cfg.Name
	if name == "" {
		name = filepath.Base(cfg.Path)
	}
	if err := checkExecutable(cfg.Path); err != nil {
		return nil, fmt.Errorf("launch plugin %q: %w", name, err)
	}
	tlsConfig, bundle, err := wire.NewLaunchTLS()
	if err != nil {
		return nil, fmt.Errorf("launch plugin %q: %w", name, err)
	}
	pipe, err := wire.Pipe(bundle)
	if err != nil {
		return nil, fmt.Errorf("launch plugin %q: %w", name, err)
	}
	defer pipe.Close()

	logger := cfg.Logger
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	cmd := exec.Command(cfg.Path)
	cmd.Env = append(slices.Clone(cfg.Env), wire.EnvTLSFD+"=3", wire.EnvLogLevel+"="+logger.GetLevel().String())
	cmd.ExtraFiles = []*os.File{pipe}
	tail := &tailBuffer{max: 1024}
	var stderr io.Writer = tail
	if cfg.Stderr != nil {
		stderr = io.MultiWriter(tail, cfg.Stderr)
	}
	timeout := cfg.StartTimeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	proc := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  wire.Handshake,
		VersionedPlugins: wire.VersionedPlugins(nil),
		Cmd:              cmd,
		SkipHostEnv:      true,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		TLSConfig:        tlsConfig,
		GRPCDialOptions:  wire.DialOptions(),
		StartTimeout:     timeout,
		Logger:           logger.Named(name),
		Stderr:           stderr,
	})
	c, err := connect(ctx, name, proc, tail, timeout)
	if err != nil {
		proc.Kill()
		return nil, fmt.Errorf("launch plugin %q: %w", name, err)
	}
	return c, nil
}

func connect(ctx context.Context, name string, proc *plugin.Client, stderr *tailBuffer, timeout time.Duration) (*Client, error) {
	protocol, err := proc.Client()
	if err != nil {
		proc.Kill() // waits until stderr is drained, so the error can quote it
		return nil, handshakeError(err, stderr, timeout)
	}
	raw, err := protocol.Dispense(wire.PluginName)
	if err != nil {
		return nil, fmt.Errorf("dispense backend: %w", err)
	}
	rpc, ok := raw.(pb.BackendClient)
	if !ok {
		return nil, fmt.Errorf("dispense backend: got %T", raw)
	}
	c := &Client{name: name, rpc: rpc, proc: proc, protocol: protocol}
	if err := c.loadInfo(ctx, proc.NegotiatedVersion()); err != nil {
		return nil, err
	}
	return c, nil
}

// handshakeError rewords go-plugin's handshake failures for an operator:
// the cause in one line, then what the plugin said on stderr when it died.
func handshakeError(err error, stderr *tailBuffer, timeout time.Duration) error {
	msg := err.Error()
	first, _, _ := strings.Cut(msg, "\n")
	withStderr := func(e error) error {
		if t := stderr.String(); t != "" {
			return fmt.Errorf("%w; plugin stderr: %s", e, t)
		}
		return e
	}
	switch {
	case strings.Contains(strings.ToLower(msg), "incompatible api version"):
		return fmt.Errorf("handshake: plugin speaks a protocol version this host does not (host speaks %d): %s", wire.ProtocolVersion, first)
	case strings.Contains(msg, "Failed to read any lines"), strings.Contains(msg, "exited before we could connect"):
		return withStderr(errors.New("handshake: plugin exited before the handshake (crashed, or not an alphaswarm backend plugin)"))
	case strings.Contains(msg, "Unrecognized remote plugin message"):
		junk := strings.TrimSpace(strings.TrimPrefix(first, "Unrecognized remote plugin message:"))
		return withStderr(fmt.Errorf("handshake: plugin wrote %q to stdout instead of a handshake (is it an alphaswarm backend plugin?)", junk))
	case strings.Contains(msg, "timeout while waiting"):
		return withStderr(fmt.Errorf("handshake: plugin did not complete the handshake within %s", timeout))
	}
	return withStderr(fmt.Errorf("handshake: %s", first))
}

func checkExecutable(path string) error {
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("binary %s does not exist", path)
	case err != nil:
		return fmt.Errorf("stat binary: %w", err)
	case st.IsDir():
		return fmt.Errorf("%s is a directory, not a plugin binary", path)
	case st.Mode().Perm()&0o111 == 0:
		return fmt.Errorf("binary %s is not executable (mode %s)", path, st.Mode().Perm())
	}
	return nil
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = t.buf[over:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(string(t.buf))
}
