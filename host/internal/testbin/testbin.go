// Package testbin builds the plugin binaries that host tests launch: the
// memory reference plugin, the faulty plugin that wraps it with injected
// faults, and the misbehaving test plugins, as real executables in a
// temporary plugin directory.
package testbin

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/alphaswarm/controller/sdk/backendtest"
)

// Package paths of the binaries tests use.
const (
	MemoryPlugin = "github.com/alphaswarm/controller/examples/backend-memory/cmd/swarm-backend-memory"
	// FaultyPlugin is the memory plugin with faults configured in its
	// fault blocks: an operation that fails, hangs or crashes the plugin.
	FaultyPlugin = "github.com/alphaswarm/controller/examples/internal/faulty/cmd/swarm-backend-faulty"
	BadPlugin    = "github.com/alphaswarm/controller/host/internal/testplugins/bad"
	PlainPlugin  = "github.com/alphaswarm/controller/host/internal/testplugins/plain"
	// ComposePlugin and EchoWorkload are built, never imported: the host
	// may not import a plugin.
	ComposePlugin    = "github.com/alphaswarm/controller/plugins/compose/cmd/swarm-backend-compose"
	KubernetesPlugin = "github.com/alphaswarm/controller/plugins/kubernetes/cmd/swarm-backend-kubernetes"
	GCPPlugin        = "github.com/alphaswarm/controller/plugins/gcp/cmd/swarm-backend-gcp"
	// FakeGCP serves the GCP plugin's fake Google Cloud on loopback.
	FakeGCP      = "github.com/alphaswarm/controller/plugins/gcp/internal/fakegcp/cmd/fakegcp"
	AzurePlugin  = "github.com/alphaswarm/controller/plugins/azure/cmd/swarm-backend-azure"
	FakeAzure    = "github.com/alphaswarm/controller/plugins/azure/internal/fakearm/cmd/fakearm" // the Azure plugin's fake ARM and Entra ID
	AWSPlugin    = "github.com/alphaswarm/controller/plugins/aws/cmd/swarm-backend-aws"
	AWSEmu       = "github.com/alphaswarm/controller/plugins/aws/internal/awsemu/cmd/awsemu" // the AWS plugin's emulator on loopback
	EchoWorkload = "github.com/alphaswarm/controller/examples/workloads/echo"
)

// BadModes are the misbehaviours of BadPlugin, each its own binary name.
var BadModes = []string{"badcookie", "badversion", "crash", "junk", "hang", "oversize", "malformed", "misnamed"}

// Build compiles pkg, statically, to path.
func Build(pkg, path string) error { return backendtest.BuildPlugin(pkg, path) }

// BuildWithTags compiles pkg, statically, to path with build tags, such as
// swarmctl with "failpoints" for the tests that crash it on purpose.
func BuildWithTags(pkg, path string, tags ...string) error {
	cmd := exec.Command("go", "build", "-tags", strings.Join(tags, ","), "-o", path, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build %s with tags %v: %v\n%s", pkg, tags, err, out)
	}
	return nil
}

// FaultyDir builds the faulty plugin into a new directory under parent, as
// swarm-backend-faulty, for tests that need a plugin that fails on purpose
// or a configuration with nested blocks, beside the plugins of PluginDir.
func FaultyDir(parent string) (string, error) {
	dir := filepath.Join(parent, "faulty-plugins")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	return dir, Build(FaultyPlugin, filepath.Join(dir, "swarm-backend-faulty"))
}

// PluginDir builds the memory plugin into a new directory under parent, as
// swarm-backend-memory, and, when withBad is set, the bad plugin once per
// mode as swarm-backend-<mode>.
func PluginDir(parent string, withBad bool) (string, error) {
	dir := filepath.Join(parent, "plugins")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	if err := Build(MemoryPlugin, filepath.Join(dir, "swarm-backend-memory")); err != nil {
		return "", err
	}
	if !withBad {
		return dir, nil
	}
	bad := filepath.Join(parent, "bad")
	if err := Build(BadPlugin, bad); err != nil {
		return "", err
	}
	for _, mode := range BadModes {
		if err := os.Link(bad, filepath.Join(dir, "swarm-backend-"+mode)); err != nil {
			return "", err
		}
	}
	return dir, nil
}
