package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// k8sCluster starts the Kubernetes test control plane under dir/.swarm/k8s,
// where examples/topologies/kubernetes finds its kubeconfig, and returns a
// kubectl command maker for it.
func k8sCluster(t *testing.T, dir string) func(args ...string) (string, error) {
	t.Helper()
	root, _ := filepath.Abs("../../..")
	var out, errOut bytes.Buffer
	build := exec.Command(filepath.Join(root, "scripts", "k8s-bin.sh"))
	build.Stdout, build.Stderr = &out, &errOut
	if err := build.Run(); err != nil {
		needK8s(t, "build the Kubernetes binaries: %v\n%s", err, errOut.String())
	}
	bin := strings.TrimSpace(out.String())
	tool := filepath.Join(dir, "k8scluster")
	gobuild := exec.Command("go", "build", "-o", tool, "./tools/k8scluster")
	gobuild.Dir = root
	if b, err := gobuild.CombinedOutput(); err != nil {
		t.Fatalf("build k8scluster: %v\n%s", err, b)
	}
	state := filepath.Join(dir, ".swarm", "k8s")
	up := exec.Command(tool, "up", "-dir", state, "-bin", bin)
	if b, err := up.CombinedOutput(); err != nil {
		needK8s(t, "start the test cluster: %v\n%s", err, b)
	}
	t.Cleanup(func() { exec.Command(tool, "down", "-dir", state).Run() })
	kubeconfig := filepath.Join(state, "kubeconfig")
	return func(args ...string) (string, error) {
		b, err := exec.Command(filepath.Join(bin, "kubectl"), append([]string{"--kubeconfig", kubeconfig}, args...)...).CombinedOutput()
		return strings.TrimSpace(string(b)), err
	}
}

func needK8s(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}

// TestKubernetesExample applies examples/topologies/kubernetes through dev
// mode to the test control plane and checks the cluster with kubectl:
// the Deployment ready, its secret kept out of it, scale and restart
// visible, and nothing with the project's labels left after destroy.
func TestKubernetesExample(t *testing.T) {
	tmp := t.TempDir()
	kubectl := k8sCluster(t, tmp)
	const sessionKey = "e2e-session-key-value"
	d := startDevIn(t, tmp, "ALPHASWARM_TENANT_SECRET_ACME__SHOP_SESSION_KEY="+sessionKey)
	_, token, _ := swarmctl(t, "dev", "token", "-dir", d.dir, "-tenant", "acme", "-permissions", "all")
	t.Setenv("ALPHASWARM_CONTROLLER_URL", d.url)
	t.Setenv("ALPHASWARM_TOKEN", strings.TrimSpace(token))
	run := d.runner(t)
	waitKubectl := func(want string, args ...string) {
		t.Helper()
		var got string
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
			if got, _ = kubectl(args...); got == want {
				return
			}
		}
		t.Fatalf("kubectl %s: %q, want %q", strings.Join(args, " "), got, want)
	}
	out := run("apply", "-auto-approve", "../../../examples/topologies/kubernetes")
	if !strings.Contains(out, "acme/staging/shop: web: rolled out") {
		t.Errorf("apply output lacks the rollout:\n%s", out)
	}
	namespace, err := kubectl("get", "ns", "-l", "alphaswarm.io/tenant=acme,alphaswarm.io/environment=staging,alphaswarm.io/deployment=shop", "-o", "jsonpath={.items[*].metadata.name}")
	if err != nil || !strings.HasPrefix(namespace, "acme-staging-shop-") || strings.Contains(namespace, " ") {
		t.Fatalf("the deployment's namespace: %q %v", namespace, err)
	}
	ns := []string{"-n", namespace}
	waitKubectl("web 3/3", append(ns, "get", "deploy", "-o", `jsonpath={range .items[*]}{.metadata.name} {.status.readyReplicas}/{.spec.replicas}{end}`)...)
	if deploy, _ := kubectl(append(ns, "get", "deploy", "web", "-o", "json")...); strings.Contains(deploy, sessionKey) || !strings.Contains(deploy, `"secretKeyRef"`) {
		t.Errorf("the Deployment holds the secret value, or no secretKeyRef:\n%s", deploy)
	}
	if v, err := kubectl(append(ns, "get", "secret", "web-secrets", "-o", "jsonpath={.data.SESSION_KEY}")...); err != nil || v == "" {
		t.Errorf("the Secret: %q %v", v, err)
	}
	run("scale", "acme/shop", "web", "5")
	waitKubectl("5", append(ns, "get", "deploy", "web", "-o", "jsonpath={.status.readyReplicas}")...)
	run("restart", "acme/shop")
	if at, _ := kubectl(append(ns, "get", "deploy", "web", "-o", `jsonpath={.spec.template.metadata.annotations.kubectl\.kubernetes\.io/restartedAt}`)...); at == "" {
		t.Error("restart left no restartedAt annotation on the pod template")
	}
	if out := run("status", "acme/shop"); !strings.Contains(out, "Health:      ready") {
		t.Errorf("status:\n%s", out)
	}
	run("destroy", "-auto-approve", "acme/shop")
	if left, err := kubectl("get", "deploy,svc,secret,pods,ns", "-A", "-l", "app.kubernetes.io/managed-by=alphaswarm", "-o", "name"); err != nil || left != "" {
		t.Errorf("after destroy, kubectl lists %q (%v)", left, err)
	}
}
