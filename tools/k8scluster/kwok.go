package main

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// NodeName is the one simulated node.
const NodeName = "kwok-node-0"

// kwokConfig makes kwok serve every pod's logs from one growing file (in
// the CRI format kubelets write) and run exec commands on this machine.
const kwokConfig = `apiVersion: kwok.x-k8s.io/v1alpha1
kind: ClusterLogs
metadata:
  name: all-pods
spec:
  logs:
  - logsFile: %[1]s
    follow: true
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: ClusterExec
metadata:
  name: all-pods
spec:
  execs:
  - local:
      workDir: %[2]s
`

func (c *cluster) startKwok() error {
	logFile := c.path("pods.log")
	cfg := fmt.Sprintf(kwokConfig, logFile, c.path("exec"))
	stages, err := filepath.Glob(filepath.Join(c.bin, "stages", "*.yaml"))
	if err != nil || len(stages) == 0 {
		return fmt.Errorf("no kwok stages under %s: run scripts/k8s-bin.sh", filepath.Join(c.bin, "stages"))
	}
	for _, f := range stages {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		cfg += "---\n" + string(b)
	}
	if err := os.WriteFile(c.path("kwok.yaml"), []byte(cfg), 0o600); err != nil {
		return err
	}
	if err := c.start("ticker", "ticker", logFile); err != nil {
		return err
	}
	env := fmt.Sprintf("KUBECONFIG=%s\nALPHASWARM_K8S_POD_LOG=%s\n", c.path("kubeconfig"), logFile)
	if err := os.WriteFile(c.path("env"), []byte(env), 0o600); err != nil {
		return err
	}
	return c.start("kwok", "--kubeconfig="+c.path("kwok.kubeconfig"), "--config="+c.path("kwok.yaml"),
		"--manage-all-nodes=false", "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
		"--node-ip=127.0.0.1", fmt.Sprintf("--node-port=%d", c.ports["kwok"]), fmt.Sprintf("--server-address=127.0.0.1:%d", c.ports["kwok"]),
		"--tls-cert-file="+c.pki.path("kubelet.crt"), "--tls-private-key-file="+c.pki.path("kubelet.key"),
		"--cidr=10.244.0.0/16")
}

// addNode registers the simulated node and waits until kwok reports it
// ready and the node lifecycle controller has lifted its taints.
func (c *cluster) addNode() error {
	node := map[string]any{
		"apiVersion": "v1", "kind": "Node",
		"metadata": map[string]any{
			"name":        NodeName,
			"annotations": map[string]string{"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
			"labels":      map[string]string{"kubernetes.io/hostname": NodeName, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64", "type": "kwok"},
		},
		"status": map[string]any{
			"allocatable": map[string]string{"cpu": "16", "memory": "64Gi", "pods": "110"},
			"capacity":    map[string]string{"cpu": "16", "memory": "64Gi", "pods": "110"},
		},
	}
	if _, err := c.api("POST", "/api/v1/nodes", node); err != nil {
		return fmt.Errorf("add node: %w", err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		b, err := c.api("GET", "/api/v1/nodes/"+NodeName, nil)
		if err == nil && nodeReady(b) {
			return nil
		}
		time.Sleep(250 * time.Millisecond)
	}
	return fmt.Errorf("node %s not ready and untainted within 60s", NodeName)
}

func nodeReady(b []byte) bool {
	var n struct {
		Spec struct {
			Taints []struct{ Key string } `json:"taints"`
		} `json:"spec"`
		Status struct {
			Conditions []struct{ Type, Status string } `json:"conditions"`
		} `json:"status"`
	}
	if json.Unmarshal(b, &n) != nil || len(n.Spec.Taints) > 0 {
		return false
	}
	for _, cond := range n.Status.Conditions {
		if cond.Type == "Ready" && cond.Status == "True" {
			return true
		}
	}
	return false
}

// api calls the apiserver as the cluster admin.
func (c *cluster) api(method, path string, body any) ([]byte, error) {
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.server()+path, r)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.tokens["admin"])
	req.Header.Set("Content-Type", "application/json")
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: c.caPool()}}}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode >= 300 {
		return nil, fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(out))
	}
	return out, nil
}

// ticker appends a CRI-format line to file every 500ms, the output of
// every simulated container.
func ticker(file string) error {
	f, err := os.OpenFile(file, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	for n := 1; ; n++ {
		fmt.Fprintf(f, "%s stdout F tick %d\n", time.Now().UTC().Format(time.RFC3339Nano), n)
		time.Sleep(500 * time.Millisecond)
	}
}
