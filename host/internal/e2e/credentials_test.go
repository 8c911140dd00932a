package e2e

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

// TestOperatorCredentialsStayHidden registers the test cluster as a
// kubernetes backend whose kubeconfig is an operator's credential, applies
// a deployment through it, and reads everything a tenant can: the cluster
// token appears in no API answer, and, once the host stopped, in neither
// its log nor its database files.
func TestOperatorCredentialsStayHidden(t *testing.T) {
	tmp := t.TempDir()
	k8sCluster(t, tmp)
	raw, err := os.ReadFile(filepath.Join(tmp, ".swarm", "k8s", "kubeconfig"))
	if err != nil {
		t.Fatal(err)
	}
	content, token := selfContainedKubeconfig(t, string(raw))
	config := filepath.Join(t.TempDir(), "host.hcl")
	src := `backend "kubernetes" "local" {
  config {
    kubeconfig_data = credential("kube/local")
  }
  grant {
    tenants      = ["acme"]
    environments = ["*"]
  }
}
`
	if err := os.WriteFile(config, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	bin, err := buildDevBin()
	if err != nil {
		t.Fatal(err)
	}
	d := launchDev(t, filepath.Join(bin, "swarmctl"), tmp, []string{"-config", config}, "ALPHASWARM_SECRET_KUBE_LOCAL="+content)
	d.waitReady(t)
	acme := d.as(t, "acme", "all")
	t.Setenv("ALPHASWARM_CONTROLLER_URL", d.url)
	t.Setenv("ALPHASWARM_TOKEN", acme.token)
	dir := writeTopology(t, `
backend "kubernetes" "local" {}

deployment "creds" {
  tenant      = "acme"
  environment = "staging"
  backend     = backend.kubernetes.local

  service "web" {
    image = "alphaswarm/echo:e2e-v1"
  }
}
`)
	answers := &strings.Builder{}
	code, out, errOut := swarmctl(t, "apply", "-auto-approve", dir)
	answers.WriteString(out + errOut)
	if code != 0 {
		t.Fatalf("apply: exit %d\n%s%s\n%s", code, out, errOut, d.log)
	}
	for _, path := range []string{"/v1/deployments/acme/creds", "/v1/deployments", "/v1/backends", "/v1/audit", "/v1/nodes?backend=kubernetes.local", "/v1/jobs/1", "/v1/jobs/1/events"} {
		code, body := acme.call("GET", path, nil)
		if code != 200 {
			t.Errorf("GET %s: %d %.200s", path, code, body)
		}
		answers.WriteString(body)
	}
	_, out, errOut = swarmctl(t, "destroy", "-auto-approve", "acme/creds")
	answers.WriteString(out + errOut)
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-d.exited
	places := map[string]string{"the API's answers": answers.String(), "the host's log": d.log.String()}
	files, _ := filepath.Glob(filepath.Join(d.dir, "data", "*"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		places[f] = string(b)
	}
	if len(files) == 0 {
		t.Fatal("the host wrote no database files")
	}
	for where, text := range places {
		if strings.Contains(text, token) {
			t.Errorf("the cluster token appears in %s", where)
		}
	}
}

// selfContainedKubeconfig embeds the certificate authority a kubeconfig
// names as a file, and returns it with its user's token.
func selfContainedKubeconfig(t *testing.T, kubeconfig string) (content, token string) {
	t.Helper()
	caLine := regexp.MustCompile(`(?m)^(\s*)certificate-authority: (\S+)$`).FindStringSubmatch(kubeconfig)
	tokenLine := regexp.MustCompile(`(?m)^\s*token: (\S+)$`).FindStringSubmatch(kubeconfig)
	if caLine == nil || tokenLine == nil {
		t.Fatalf("the test cluster's kubeconfig has no CA file or token:\n%s", kubeconfig)
	}
	ca, err := os.ReadFile(caLine[2])
	if err != nil {
		t.Fatal(err)
	}
	content = strings.Replace(kubeconfig, caLine[0], caLine[1]+"certificate-authority-data: "+base64.StdEncoding.EncodeToString(ca), 1)
	return content, tokenLine[1]
}
