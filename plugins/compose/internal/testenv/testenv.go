// Package testenv gives the compose plugin's tests their real parts: the
// Docker Engine of this machine, and the echo workload as a local image
// built FROM scratch (no registry is reachable).
package testenv

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/jsonmessage"
)

// EchoPackage is the echo workload's main package.
const EchoPackage = "github.com/alphaswarm/controller/examples/workloads/echo"

// Engine returns a client for the local engine. Without one it ends the
// test binary: failing under CI=true, where a missing real part must not
// pass unnoticed, and skipping loudly elsewhere.
func Engine() *client.Client {
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, err = cli.Ping(ctx)
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			fmt.Fprintf(os.Stderr, "FAIL: these tests need a Docker Engine and CI=true: %v\n", err)
			os.Exit(1)
		}
		fmt.Fprintf(os.Stderr, "SKIP: no Docker Engine (%v); set CI=true to make this a failure\n", err)
		os.Exit(0)
	}
	return cli
}

// BuildEcho builds the echo workload statically and makes it an image
// FROM scratch, tagged with each of tags.
func BuildEcho(ctx context.Context, cli *client.Client, tags ...string) error {
	dir, err := os.MkdirTemp("", "echo-image-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "echo")
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, EchoPackage)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build echo: %v\n%s", err, out)
	}
	binary, err := os.ReadFile(bin)
	if err != nil {
		return err
	}
	dockerfile := "FROM scratch\nCOPY echo /echo\nENTRYPOINT [\"/echo\"]\n"
	var ctxTar bytes.Buffer
	tw := tar.NewWriter(&ctxTar)
	for _, f := range []struct {
		name string
		mode int64
		body []byte
	}{{"Dockerfile", 0o644, []byte(dockerfile)}, {"echo", 0o755, binary}} {
		tw.WriteHeader(&tar.Header{Name: f.name, Mode: f.mode, Size: int64(len(f.body))})
		tw.Write(f.body)
	}
	tw.Close()
	resp, err := cli.ImageBuild(ctx, &ctxTar, build.ImageBuildOptions{Tags: tags, Remove: true, ForceRemove: true})
	if err != nil {
		return fmt.Errorf("build echo image: %w", err)
	}
	defer resp.Body.Close()
	if err := jsonmessage.DisplayJSONMessagesStream(resp.Body, io.Discard, 0, false, nil); err != nil {
		return fmt.Errorf("build echo image: %w", err)
	}
	return nil
}
