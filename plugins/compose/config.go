package compose

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"

	"github.com/alphaswarm/controller/sdk"
)

// version is set at build time with -ldflags "-X .../plugins/compose.version=...".
var version = "0.1.0"

// config is the body of a backend "compose" "<name>" block.
type config struct {
	Host           string     `json:"host"`
	TLS            *tlsConfig `json:"tls"`
	ProjectPrefix  string     `json:"project_prefix"`
	PullPolicy     string     `json:"pull_policy"`
	ReadyTimeout   string     `json:"ready_timeout"`
	StopTimeout    string     `json:"stop_timeout"`
	PublishAddress string     `json:"publish_address"`
	RestartPolicy  string     `json:"restart_policy"`

	readyTimeout, stopTimeout time.Duration
}

type tlsConfig struct {
	CAFile   string `json:"ca_file"`
	CertFile string `json:"cert_file"`
	KeyFile  string `json:"key_file"`
}

var schema = sdk.Schema{
	Attributes: []sdk.Attribute{
		{Name: "host", Type: sdk.TypeString, Default: "",
			Description: "Engine address, such as unix:///var/run/docker.sock or tcp://10.0.0.5:2376. Empty: $DOCKER_HOST when the host passes it to the plugin, else the local socket."},
		{Name: "project_prefix", Type: sdk.TypeString, Default: "as",
			Description: "Compose project names are <prefix>_<tenant>_<environment>_<deployment>."},
		{Name: "pull_policy", Type: sdk.TypeString, Default: "missing", TenantSettable: true,
			Description: "missing: pull images the engine does not have; never: fail instead; always: pull on every apply."},
		{Name: "ready_timeout", Type: sdk.TypeString, Default: "2m", TenantSettable: true,
			Description: "How long a new replica may take to become healthy before apply fails."},
		{Name: "stop_timeout", Type: sdk.TypeString, Default: "10s", TenantSettable: true,
			Description: "Grace period between SIGTERM and SIGKILL when stopping a replica."},
		{Name: "publish_address", Type: sdk.TypeString, Default: "",
			Description: "Host address published ports bind to; empty binds all, as docker run -p does."},
		{Name: "restart_policy", Type: sdk.TypeString, Default: "unless-stopped", TenantSettable: true,
			Description: "Docker restart policy of every container: no, always, on-failure or unless-stopped."},
	},
	Blocks: []sdk.Block{{
		Name: "tls", Nesting: sdk.NestingSingle, Description: "Mutual TLS to a remote engine.",
		Schema: sdk.Schema{Attributes: []sdk.Attribute{
			{Name: "ca_file", Type: sdk.TypeString, Required: true},
			{Name: "cert_file", Type: sdk.TypeString, Required: true},
			{Name: "key_file", Type: sdk.TypeString, Required: true},
		}},
	}},
}

// parseConfig decodes and checks a configuration, offline: Configure and
// ValidateConfig both call it. It skips the values that are unknown.
func parseConfig(raw json.RawMessage, unknown sdk.Unknown) (config, error) {
	var c config
	if err := sdk.DecodeConfig(raw, &c); err != nil {
		return c, err
	}
	return c, c.check(unknown)
}

func (c *config) check(unknown sdk.Unknown) error {
	var err error
	known := func(path string) bool { return !unknown.Has(path) }
	if c.readyTimeout, err = time.ParseDuration(c.ReadyTimeout); known("ready_timeout") && (err != nil || c.readyTimeout <= 0) {
		return sdk.InvalidConfig("ready_timeout", "%q is not a positive duration such as \"2m\"", c.ReadyTimeout)
	}
	if c.stopTimeout, err = time.ParseDuration(c.StopTimeout); known("stop_timeout") && (err != nil || c.stopTimeout < 0) {
		return sdk.InvalidConfig("stop_timeout", "%q is not a duration such as \"10s\"", c.StopTimeout)
	}
	switch c.PullPolicy {
	case "missing", "never", "always":
	default:
		if known("pull_policy") {
			return sdk.InvalidConfig("pull_policy", "%q must be missing, never or always", c.PullPolicy)
		}
	}
	if err := container.ValidateRestartPolicy(container.RestartPolicy{Name: container.RestartPolicyMode(c.RestartPolicy)}); err != nil && known("restart_policy") {
		return sdk.InvalidConfig("restart_policy", "%q must be no, always, on-failure or unless-stopped", c.RestartPolicy)
	}
	if !dnsLabel.MatchString(c.ProjectPrefix) && known("project_prefix") {
		return sdk.InvalidConfig("project_prefix", "%q must be lower-case letters, digits and '-'", c.ProjectPrefix)
	}
	if c.Host != "" && known("host") {
		if _, err := client.ParseHostURL(c.Host); err != nil {
			return sdk.InvalidConfig("host", "%q is not an engine address such as unix:///var/run/docker.sock or tcp://10.0.0.5:2376: %v", c.Host, err)
		}
	}
	if c.PublishAddress != "" && known("publish_address") && net.ParseIP(c.PublishAddress) == nil {
		return sdk.InvalidConfig("publish_address", "%q is not an IP address", c.PublishAddress)
	}
	return nil
}

// engineAddress is where the client connects.
func (c *config) engineAddress() string {
	switch {
	case c.Host != "":
		return c.Host
	case os.Getenv("DOCKER_HOST") != "":
		return os.Getenv("DOCKER_HOST")
	}
	return client.DefaultDockerHost
}

// newClient builds the Engine API client. It negotiates the API version, so
// older engines (API 1.41 and up) work.
func (c *config) newClient() (*client.Client, error) {
	opts := []client.Opt{client.WithHost(c.engineAddress()), client.WithAPIVersionNegotiation()}
	if c.TLS != nil {
		for path, file := range map[string]string{"tls.ca_file": c.TLS.CAFile, "tls.cert_file": c.TLS.CertFile, "tls.key_file": c.TLS.KeyFile} {
			if _, err := os.Stat(file); err != nil {
				return nil, sdk.InvalidConfig(path, "%v", err)
			}
		}
		opts = append(opts, client.WithTLSClientConfig(c.TLS.CAFile, c.TLS.CertFile, c.TLS.KeyFile))
	}
	cli, err := client.NewClientWithOpts(opts...)
	if err != nil {
		return nil, sdk.InvalidConfig("host", "%v", err)
	}
	return cli, nil
}

func (b *Backend) Info(context.Context) (*sdk.InfoResponse, error) {
	return &sdk.InfoResponse{
		Name: "compose", Version: version, ConfigSchema: schema,
		Description: "Runs deployments as compose projects on a Docker Engine.",
	}, nil
}

// ValidateConfig checks a configuration offline, with parseConfig: it
// reaches no engine and reads no file.
func (b *Backend) ValidateConfig(_ context.Context, req *sdk.ValidateConfigRequest) (*sdk.ValidateConfigResponse, error) {
	_, err := parseConfig(req.Config, req.Unknown)
	return &sdk.ValidateConfigResponse{}, err
}

func (b *Backend) Configure(_ context.Context, req *sdk.ConfigureRequest) (*sdk.ConfigureResponse, error) {
	c, err := parseConfig(req.Config, nil)
	if err != nil {
		return nil, err
	}
	cli, err := c.newClient()
	if err != nil {
		return nil, err
	}
	b.cfg, b.docker = c, cli
	return &sdk.ConfigureResponse{}, nil
}

// engineError turns a failure to reach the engine into a retriable error
// naming the address; other errors pass through.
func (b *Backend) engineError(err error) error {
	if err != nil && client.IsErrConnectionFailed(err) {
		return &sdk.UnavailableError{Message: fmt.Sprintf("cannot reach the Docker Engine at %s: %v", b.cfg.engineAddress(), err)}
	}
	return err
}
