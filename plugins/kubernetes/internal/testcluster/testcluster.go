// Package testcluster gives the Kubernetes backend's tests a real control
// plane: it builds (once, cached outside the repository) etcd,
// kube-apiserver, kube-controller-manager, kube-scheduler and kwok with
// scripts/k8s-bin.sh, and starts them with tools/k8scluster, as make k8s-up
// does. With CI=true a cluster that cannot start fails the tests; elsewhere
// they skip, saying why.
package testcluster

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// Cluster is a running test control plane.
type Cluster struct {
	Kubeconfig string
	// PodLog is the file every simulated container's log is read from.
	PodLog string
	dir    string
	tool   string
}

// root is the repository root, from this file's place in it.
func root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "..")
}

// Start builds what is missing and starts a cluster under a new temporary
// directory.
func Start() (*Cluster, error) {
	var out, errOut bytes.Buffer
	cmd := exec.Command(filepath.Join(root(), "scripts", "k8s-bin.sh"))
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("build the Kubernetes binaries: %v\n%s", err, errOut.String())
	}
	bin := strings.TrimSpace(out.String())
	dir, err := os.MkdirTemp("", "k8s-test-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{dir: dir, tool: filepath.Join(dir, "k8scluster")}
	build := exec.Command("go", "build", "-o", c.tool, "./tools/k8scluster")
	build.Dir = root()
	if b, err := build.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("build k8scluster: %v\n%s", err, b)
	}
	out.Reset()
	errOut.Reset()
	up := exec.Command(c.tool, "up", "-dir", filepath.Join(dir, "cluster"), "-bin", bin)
	up.Stdout, up.Stderr = &out, &errOut
	if err := up.Run(); err != nil {
		c.Stop()
		return nil, fmt.Errorf("start the test cluster: %v\n%s", err, errOut.String())
	}
	c.Kubeconfig = strings.TrimSpace(out.String())
	c.PodLog = filepath.Join(dir, "cluster", "pods.log")
	return c, nil
}

// Stop stops the cluster and removes its files.
func (c *Cluster) Stop() {
	exec.Command(c.tool, "down", "-dir", filepath.Join(c.dir, "cluster")).Run()
	os.RemoveAll(c.dir)
}

// Need returns the cluster or, when it could not start, fails (CI=true) or
// skips the test.
func Need(t testing.TB, c *Cluster, err error) *Cluster {
	t.Helper()
	if c == nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the Kubernetes test cluster is needed and CI=true: %v", err)
		}
		t.Skipf("no Kubernetes test cluster: %v", err)
	}
	return c
}
