package pluginhost

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	pb "github.com/alphaswarm/controller/sdk/internal/backendv1"
	"github.com/alphaswarm/controller/sdk/internal/wire"
)

// testPlugin is ../internal/testplugin built by TestMain.
var testPlugin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "sdk-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	testPlugin = filepath.Join(dir, "swarm-backend-minimal")
	build := exec.Command("go", "build", "-o", testPlugin, "../internal/testplugin")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build test plugin: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func launchTestPlugin(t *testing.T, env ...string) *Client {
	t.Helper()
	c, err := Launch(context.Background(), LaunchConfig{Name: "minimal", Path: testPlugin, Env: env})
	if err != nil {
		t.Fatalf("launch: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

// TestLaunchRequiresMutualTLS dials the plugin's socket the ways an intruder
// on the same machine could, and expects each to be refused.
func TestLaunchRequiresMutualTLS(t *testing.T) {
	t.Parallel()
	c := launchTestPlugin(t)
	addr := c.proc.ReattachConfig().Addr
	dial := func(creds credentials.TransportCredentials) error {
		conn, err := grpc.NewClient("passthrough:///plugin",
			grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, addr.Network(), addr.String())
			}),
			grpc.WithTransportCredentials(creds))
		if err != nil {
			return err
		}
		defer conn.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_, err = pb.NewBackendClient(conn).GetInfo(ctx, &pb.GetInfo_Request{}, grpc.WaitForReady(false))
		return err
	}
	if err := dial(insecure.NewCredentials()); err == nil {
		t.Errorf("a plaintext connection was served")
	}
	noClientCert := credentials.NewTLS(&tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS13})
	if err := dial(noClientCert); err == nil {
		t.Errorf("a TLS connection without the host's client certificate was served")
	}
	// An intruder's certificate of the same shape as the host's (self-signed
	// for localhost, P-256), from this very process: only the bytes differ.
	certPEM, keyPEM, err := wire.IssueCert()
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	intruder := credentials.NewTLS(&tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{pair}})
	if err := dial(intruder); err == nil {
		t.Errorf("a TLS connection with another client certificate was served")
	}
	if err := c.Ping(context.Background()); err != nil {
		t.Errorf("the host's own connection failed: %v", err)
	}
}

// TestLaunchPassesOnlyChosenEnvironment reads the plugin's environment from
// /proc and expects nothing of the host's and no key material in it.
func TestLaunchPassesOnlyChosenEnvironment(t *testing.T) {
	t.Setenv("HOST_SECRET_FOR_TEST", "must-not-leak")
	c := launchTestPlugin(t, "CHOSEN=yes")
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(c.Pid()) + "/environ")
	if err != nil {
		t.Fatalf("read plugin environment: %v", err)
	}
	env := strings.Split(strings.TrimRight(string(raw), "\x00"), "\x00")
	var names []string
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		names = append(names, name)
		if strings.Contains(kv, "must-not-leak") || strings.Contains(kv, "PRIVATE KEY") {
			t.Errorf("plugin environment holds %q", kv)
		}
	}
	allowed := map[string]bool{
		"CHOSEN": true, Handshake.MagicCookieKey: true, wire.EnvTLSFD: true, wire.EnvLogLevel: true,
		"PLUGIN_MIN_PORT": true, "PLUGIN_MAX_PORT": true, "PLUGIN_PROTOCOL_VERSIONS": true,
	}
	for _, n := range names {
		if !allowed[n] {
			t.Errorf("plugin environment has %s, which the host did not choose to pass", n)
		}
	}
}

func TestLaunchRefusesWhatIsNotAPluginBinary(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	notExec := filepath.Join(dir, "swarm-backend-text")
	if err := os.WriteFile(notExec, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, path, want string
	}{
		{"missing", filepath.Join(dir, "swarm-backend-gone"), "does not exist"},
		{"not executable", notExec, "is not executable"},
		{"directory", dir, "is a directory"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Launch(context.Background(), LaunchConfig{Name: "probe", Path: tc.path})
			if err == nil || !strings.Contains(err.Error(), `launch plugin "probe"`) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Launch(%s) = %v; want an error naming the plugin and %q", tc.path, err, tc.want)
			}
		})
	}
}
