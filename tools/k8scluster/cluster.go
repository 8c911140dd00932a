package main

import (
	"bytes"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cluster is one control plane being started.
type cluster struct {
	dir, bin string
	pki      *pki
	tokens   map[string]string // user -> token
	ports    map[string]int
}

func up(dir, bin string) (string, error) {
	if bin == "" {
		return "", errors.New("-bin is required: run scripts/k8s-bin.sh, which prints it")
	}
	dir, _ = filepath.Abs(dir)
	if err := down(dir); err != nil {
		return "", err
	}
	c := &cluster{dir: dir, bin: bin, tokens: map[string]string{}, ports: map[string]int{}}
	if err := c.prepare(); err != nil {
		return "", err
	}
	steps := []func() error{c.startEtcd, c.startAPIServer, c.startControllers, c.startKwok, c.addNode}
	for _, step := range steps {
		if err := step(); err != nil {
			return "", fmt.Errorf("%w (logs under %s)", err, filepath.Join(dir, "logs"))
		}
	}
	return filepath.Join(dir, "kubeconfig"), nil
}

func (c *cluster) prepare() error {
	for _, d := range []string{"logs", "etcd", "exec"} {
		if err := os.MkdirAll(filepath.Join(c.dir, d), 0o700); err != nil {
			return err
		}
	}
	p, err := newPKI(filepath.Join(c.dir, "pki"))
	if err != nil {
		return fmt.Errorf("write certificates: %w", err)
	}
	c.pki = p
	var csv strings.Builder
	for user, groups := range map[string]string{"admin": "system:masters", "controller-manager": "system:masters", "scheduler": "", "kwok": "system:masters"} {
		c.tokens[user] = randomHex(24)
		name := user
		if user == "scheduler" {
			name = "system:kube-scheduler"
		}
		fmt.Fprintf(&csv, "%s,%s,%s,\"%s\"\n", c.tokens[user], name, name, groups)
	}
	if err := os.WriteFile(c.path("tokens.csv"), []byte(csv.String()), 0o600); err != nil {
		return err
	}
	for _, name := range []string{"etcd", "etcd-peer", "apiserver", "controller-manager", "scheduler", "kwok"} {
		port, err := freePort()
		if err != nil {
			return err
		}
		c.ports[name] = port
	}
	return nil
}

func (c *cluster) path(parts ...string) string {
	return filepath.Join(append([]string{c.dir}, parts...)...)
}

func (c *cluster) server() string { return fmt.Sprintf("https://127.0.0.1:%d", c.ports["apiserver"]) }

func (c *cluster) startEtcd() error {
	client := fmt.Sprintf("http://127.0.0.1:%d", c.ports["etcd"])
	peer := fmt.Sprintf("http://127.0.0.1:%d", c.ports["etcd-peer"])
	if err := c.start("etcd", "--name=test", "--data-dir="+c.path("etcd"), "--listen-client-urls="+client, "--advertise-client-urls="+client,
		"--listen-peer-urls="+peer, "--initial-advertise-peer-urls="+peer, "--initial-cluster=test="+peer, "--unsafe-no-fsync",
		"--log-level=warn"); err != nil {
		return err
	}
	return waitHTTP("etcd", client+"/health", nil, "", 30*time.Second)
}

func (c *cluster) startAPIServer() error {
	err := c.start("kube-apiserver",
		fmt.Sprintf("--etcd-servers=http://127.0.0.1:%d", c.ports["etcd"]),
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", fmt.Sprintf("--secure-port=%d", c.ports["apiserver"]),
		"--endpoint-reconciler-type=none",
		"--tls-cert-file="+c.pki.path("apiserver.crt"), "--tls-private-key-file="+c.pki.path("apiserver.key"),
		"--client-ca-file="+c.pki.path("ca.crt"),
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file="+c.pki.path("sa.pub"), "--service-account-signing-key-file="+c.pki.path("sa.key"),
		"--service-cluster-ip-range=10.96.0.0/16", "--token-auth-file="+c.path("tokens.csv"),
		"--authorization-mode=RBAC", "--allow-privileged=true", "--profiling=false",
		"--kubelet-preferred-address-types=InternalIP")
	if err != nil {
		return err
	}
	return waitHTTP("kube-apiserver", c.server()+"/readyz", c.caPool(), c.tokens["admin"], 90*time.Second)
}

func (c *cluster) startControllers() error {
	for user, file := range map[string]string{"admin": "kubeconfig", "controller-manager": "controller-manager.kubeconfig", "scheduler": "scheduler.kubeconfig", "kwok": "kwok.kubeconfig"} {
		if err := writeKubeconfig(c.path(file), c.server(), c.pki.path("ca.crt"), user, c.tokens[user]); err != nil {
			return err
		}
	}
	err := c.start("kube-controller-manager", "--kubeconfig="+c.path("controller-manager.kubeconfig"),
		"--authentication-kubeconfig="+c.path("controller-manager.kubeconfig"), "--authorization-kubeconfig="+c.path("controller-manager.kubeconfig"),
		"--bind-address=127.0.0.1", fmt.Sprintf("--secure-port=%d", c.ports["controller-manager"]), "--leader-elect=false",
		"--service-account-private-key-file="+c.pki.path("sa.key"), "--root-ca-file="+c.pki.path("ca.crt"),
		"--use-service-account-credentials=false", "--controllers=*")
	if err != nil {
		return err
	}
	return c.start("kube-scheduler", "--kubeconfig="+c.path("scheduler.kubeconfig"),
		"--authentication-kubeconfig="+c.path("scheduler.kubeconfig"), "--authorization-kubeconfig="+c.path("scheduler.kubeconfig"),
		"--bind-address=127.0.0.1", fmt.Sprintf("--secure-port=%d", c.ports["scheduler"]), "--leader-elect=false")
}

func (c *cluster) caPool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(c.pki.caCert)
	return pool
}

// start runs a component in its own session, so it outlives this command,
// with its output in logs/<name>.log and its pid in pids.
func (c *cluster) start(name string, args ...string) error {
	log, err := os.OpenFile(c.path("logs", name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer log.Close()
	bin := filepath.Join(c.bin, name)
	if name == "ticker" {
		bin, _ = os.Executable()
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", name, err)
	}
	pids, err := os.OpenFile(c.path("pids"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer pids.Close()
	fmt.Fprintf(pids, "%d %s\n", cmd.Process.Pid, name)
	return cmd.Process.Release()
}

// down stops the processes listed in dir/pids, then removes dir.
func down(dir string) error {
	b, err := os.ReadFile(filepath.Join(dir, "pids"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	var pids []int
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			if pid, err := strconv.Atoi(f[0]); err == nil {
				pids = append(pids, pid)
			}
		}
	}
	for _, pid := range pids {
		syscall.Kill(-pid, syscall.SIGTERM)
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, pid := range pids {
		for syscall.Kill(pid, 0) == nil && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		syscall.Kill(-pid, syscall.SIGKILL)
	}
	return os.RemoveAll(dir)
}

func waitHTTP(name, url string, pool *x509.CertPool, token string, timeout time.Duration) error {
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	deadline := time.Now().Add(timeout)
	var last string
	for time.Now().Before(deadline) {
		req, _ := http.NewRequest("GET", url, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := client.Do(req)
		if err == nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
			last = fmt.Sprintf("%s: %s", resp.Status, bytes.TrimSpace(body))
		} else {
			last = err.Error()
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("%s not ready within %s: %s", name, timeout, last)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func writeKubeconfig(path, server, ca, user, token string) error {
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: alphaswarm-test
  cluster:
    server: %s
    certificate-authority: %s
users:
- name: %s
  user:
    token: %s
contexts:
- name: alphaswarm-test
  context:
    cluster: alphaswarm-test
    user: %s
current-context: alphaswarm-test
`, server, ca, user, token, user)
	return os.WriteFile(path, []byte(cfg), 0o600)
}
