package cli

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/alphaswarm/controller/host/internal/testbin"
)

// validateJSON runs validate -json with the plugins of dir and decodes its
// answer.
func validateJSON(t *testing.T, plugins, dir string) (int, []jsonDiagnostic) {
	t.Helper()
	code, out, errOut := run("validate", "-json", "-plugin-dir", plugins, "-lock-file", filepath.Join(t.TempDir(), "none.hcl"), dir)
	var result struct {
		Diagnostics []jsonDiagnostic `json:"diagnostics"`
	}
	if err := json.Unmarshal([]byte(out), &result); err != nil {
		t.Fatalf("decode %q: %v\nstderr: %s", out, err, errOut)
	}
	return code, result.Diagnostics
}

// TestValidateRunsThePluginsOfflineChecks: validate asks the memory plugin
// (the faulty one, for a nested block) to check its backend block without
// configuring it, and each problem points at its line, naming the
// attribute.
func TestValidateRunsThePluginsOfflineChecks(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, plugin, backend string
		line                  int
		detail                string
	}{
		{"a bad duration", "memory", `log_interval = "0s"`, 2, `The memory plugin rejects log_interval: "0s" is not a positive duration`},
		{"a bad value in a nested block", "faulty", "fault {\n    op   = \"apply\"\n    kind = \"explode\"\n  }", 4,
			`The faulty plugin rejects fault[0].kind: "explode" must be error, unavailable, crash or hang`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			topology := strings.Replace(memoryTopology, `latency = "LATENCY"`, tc.backend, 1)
			plugins := pluginDir
			if tc.plugin == "faulty" { // the memory backend with fault blocks
				topology = strings.NewReplacer(`backend "memory"`, `backend "faulty"`, "backend.memory.", "backend.faulty.").Replace(topology)
				plugins = faultyDir
			}
			code, diags := validateJSON(t, plugins, topologyDir(t, topology))
			if code != exitError || len(diags) != 1 {
				t.Fatalf("exit %d, diagnostics %+v", code, diags)
			}
			if d := diags[0]; d.Summary != "Invalid backend configuration" || d.Line != tc.line || !strings.Contains(d.Detail, tc.detail) ||
				filepath.Base(d.File) != "main.hcl" {
				t.Errorf("diagnostic %+v\nwant main.hcl line %d with %q", d, tc.line, tc.detail)
			}
		})
	}
}

// kubernetesTopology is a backend block and a deployment for the
// kubernetes plugin.
const kubernetesTopology = `backend "kubernetes" "k" {
  NAMESPACE
}

deployment "DEPLOYMENT" {
  tenant      = "acme"
  environment = "dev"
  backend     = backend.kubernetes.k

  service "web" {
    image = "web:1"
  }
}
`

// TestValidateReachesNoCluster points KUBECONFIG at a loopback listener
// that counts connections: validate checks the kubernetes example, good
// and bad backend blocks and deployments, and connects to nothing; plan
// -local, which configures the plugin, connects.
func TestValidateReachesNoCluster(t *testing.T) {
	plugins := t.TempDir()
	if err := testbin.Build(testbin.KubernetesPlugin, filepath.Join(plugins, "swarm-backend-kubernetes")); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var conns atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			// Not TLS: the client gives up at once, where a bare close
			// would have it retry.
			c.Write([]byte("HTTP/1.0 400 Bad Request\r\n\r\n"))
			c.Close()
		}
	}()
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	kc := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: c
  cluster:
    server: https://%s
    insecure-skip-tls-verify: true
users:
- name: u
  user:
    token: a-token
contexts:
- name: x
  context: {cluster: c, user: u}
current-context: x
`, ln.Addr())
	if err := os.WriteFile(kubeconfig, []byte(kc), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KUBECONFIG", kubeconfig)

	long := strings.Repeat("d", 62) // t-<it> is one character too long for a namespace
	for _, tc := range []struct {
		name      string
		dir       string
		code      int
		line      int
		summary   string
		detail    string
		namespace string
	}{
		{name: "the kubernetes example", dir: "../../../examples/topologies/kubernetes", code: exitOK},
		{name: "a bad namespace", code: exitError, line: 2, summary: "Invalid backend configuration",
			detail: `The kubernetes plugin rejects namespace: "Team_A" is not a valid namespace name`, namespace: `namespace = "Team_A"`},
		{name: "a kubeconfig that runs a program", code: exitError, line: 2, summary: "Invalid backend configuration",
			detail:    "The kubernetes plugin rejects kubeconfig_data: user \"u\" runs an exec credential plugin (/bin/true)",
			namespace: `kubeconfig_data = "{\"apiVersion\":\"v1\",\"kind\":\"Config\",\"users\":[{\"name\":\"u\",\"user\":{\"exec\":{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"command\":\"/bin/true\"}}}]}"`},
		{name: "a deployment the namespace template cannot hold", code: exitError, line: 5,
			summary: "The backend's namespace template gives", detail: "Reported by the kubernetes backend", namespace: `namespace = "t-{deployment}"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := tc.dir
			if dir == "" {
				src := strings.Replace(strings.Replace(kubernetesTopology, "NAMESPACE", tc.namespace, 1), "DEPLOYMENT", long, 1)
				dir = topologyDir(t, src)
			}
			code, diags := validateJSON(t, plugins, dir)
			if code != tc.code {
				t.Fatalf("exit %d, want %d: %+v", code, tc.code, diags)
			}
			if tc.code != exitOK {
				if len(diags) != 1 || diags[0].Line != tc.line || !strings.HasPrefix(diags[0].Summary, tc.summary) || !strings.Contains(diags[0].Detail, tc.detail) {
					t.Errorf("diagnostics %+v\nwant one at line %d: %q, %q", diags, tc.line, tc.summary, tc.detail)
				}
			}
			if n := conns.Load(); n != 0 {
				t.Errorf("validate connected %d times to the cluster of $KUBECONFIG", n)
			}
		})
	}

	code, out, errOut := run("plan", "-local", "-plugin-dir", plugins, "-lock-file", filepath.Join(t.TempDir(), "none.hcl"), "../../../examples/topologies/kubernetes")
	if conns.Load() == 0 {
		t.Errorf("plan -local did not connect to the cluster of $KUBECONFIG (exit %d)\n%s%s", code, out, errOut)
	}
}
