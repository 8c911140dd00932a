package kubernetes_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/alphaswarm/controller/core"
	k8splugin "github.com/alphaswarm/controller/plugins/kubernetes"
	"github.com/alphaswarm/controller/sdk"
	"github.com/alphaswarm/controller/sdk/backendtest"
	"github.com/alphaswarm/controller/sdk/pluginhost"
)

// admin is a client-go client with the cluster admin's kubeconfig, to
// arrange the cluster and to check what the plugin left in it.
func admin(t testing.TB) kubernetes.Interface {
	t.Helper()
	c := needCluster(t)
	rc, err := clientcmd.BuildConfigFromFlags("", c.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// kubeconfigWith writes a copy of the admin kubeconfig changed by edit.
func kubeconfigWith(t *testing.T, edit func(server *string, token *string)) string {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(needCluster(t).Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	for _, cl := range cfg.Clusters {
		for _, u := range cfg.AuthInfos {
			edit(&cl.Server, &u.Token)
		}
	}
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// plugin launches the plugin binary and configures it with cfg.
func plugin(t *testing.T, cfg map[string]any) (*pluginhost.Client, error) {
	t.Helper()
	c := backendtest.LaunchPackage(pluginPackage)(t)
	b, _ := json.Marshal(cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := c.Configure(ctx, &sdk.ConfigureRequest{Instance: "faults", Config: b})
	return c, err
}

func TestConfigureFaults(t *testing.T) {
	t.Parallel()
	k := needCluster(t).Kubeconfig
	tests := []struct {
		name      string
		cfg       map[string]any
		want      string
		retriable bool
		path      string
	}{
		{"unreachable API server", map[string]any{"kubeconfig": kubeconfigWith(t, func(s, _ *string) { *s = "https://127.0.0.1:1" })},
			"reach the Kubernetes API server at https://127.0.0.1:1", true, ""},
		{"wrong context", map[string]any{"kubeconfig": k, "context": "production"}, `context "production" does not exist`, false, "context"},
		{"missing kubeconfig", map[string]any{"kubeconfig": "/nonexistent/kubeconfig"}, "/nonexistent/kubeconfig", false, "kubeconfig"},
		{"revoked credential", map[string]any{"kubeconfig": kubeconfigWith(t, func(_, tok *string) { *tok = "revoked-token" })},
			"refuses the credential (expired or revoked?)", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := plugin(t, tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("configure: %v, want an error containing %q", err, tt.want)
			}
			if sdk.IsRetriable(err) != tt.retriable {
				t.Errorf("retriable = %v, want %v: %v", sdk.IsRetriable(err), tt.retriable, err)
			}
			var invalid *sdk.InvalidConfigError
			if tt.path != "" && (!errors.As(err, &invalid) || invalid.Path != tt.path) {
				t.Errorf("got %v, want an invalid-config error at %q", err, tt.path)
			}
		})
	}
}

func deployment(tenant, name string, replicas int) core.DeploymentSpec {
	svc := testService("api")
	svc.Name, svc.Replicas = "api", replicas
	return core.DeploymentSpec{Tenant: tenant, Environment: "test", Name: name, Services: []core.ServiceSpec{svc}}
}

func apply(t *testing.T, c *pluginhost.Client, spec core.DeploymentSpec, secrets sdk.SecretValues, prior []byte) ([]byte, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	resp, err := c.Apply(ctx, &sdk.ApplyRequest{Deployment: spec, PriorState: prior, Secrets: secrets}, func(core.Event) {})
	if resp == nil {
		return prior, err
	}
	return resp.State, err
}

// TestForbiddenCredential applies with a service account whose Role can
// read Deployments but not write them: the error says which credential
// lacks what.
func TestForbiddenCredential(t *testing.T) {
	t.Parallel()
	a := admin(t)
	ctx := context.Background()
	ns := "limited"
	mustCreate(t, func() error {
		_, err := a.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
		return err
	})
	mustCreate(t, func() error {
		_, err := a.CoreV1().ServiceAccounts(ns).Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "reader"}}, metav1.CreateOptions{})
		return err
	})
	mustCreate(t, func() error {
		_, err := a.RbacV1().Roles(ns).Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "reader"}, Rules: []rbacv1.PolicyRule{{
			APIGroups: []string{"", "apps"}, Resources: []string{"deployments", "pods", "services", "secrets"}, Verbs: []string{"get", "list", "watch"}}}}, metav1.CreateOptions{})
		return err
	})
	mustCreate(t, func() error {
		_, err := a.RbacV1().RoleBindings(ns).Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "reader"},
			Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: "reader", Namespace: ns}},
			RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: "reader"}}, metav1.CreateOptions{})
		return err
	})
	expiry := int64(600)
	tok, err := a.CoreV1().ServiceAccounts(ns).CreateToken(ctx, "reader", &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &expiry}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := plugin(t, map[string]any{"kubeconfig": kubeconfigWith(t, func(_, token *string) { *token = tok.Status.Token }), "namespace": ns})
	if err != nil {
		t.Fatalf("configure with a read-only service account: %v", err)
	}
	_, err = apply(t, c, deployment("faults", "forbidden", 1), nil, nil)
	for _, want := range []string{"apply Deployment of service api: forbidden", "lacks the permission", `User "system:serviceaccount:limited:reader" cannot patch resource "deployments"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("apply with a read-only credential: %v, want it to contain %q", err, want)
		}
	}
}

func mustCreate(t *testing.T, create func() error) {
	t.Helper()
	if err := create(); err != nil {
		t.Fatal(err)
	}
}

// TestNamespaceOwnedBySomeoneElse refuses to deploy into a namespace of
// the derived name that apply did not create.
func TestNamespaceOwnedBySomeoneElse(t *testing.T) {
	t.Parallel()
	a := admin(t)
	spec := deployment("faults", "owned", 1)
	ns := k8splugin.NamespaceOf(spec.Ref())
	mustCreate(t, func() error {
		_, err := a.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
		return err
	})
	c, err := plugin(t, map[string]any{"kubeconfig": needCluster(t).Kubeconfig})
	if err != nil {
		t.Fatal(err)
	}
	_, err = apply(t, c, spec, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "namespace "+ns+" exists and is not this deployment's") {
		t.Fatalf("apply into a foreign namespace: %v", err)
	}
	if d, _ := a.AppsV1().Deployments(ns).List(context.Background(), metav1.ListOptions{}); d != nil && len(d.Items) > 0 {
		t.Errorf("apply wrote into the foreign namespace: %d Deployments", len(d.Items))
	}
}

// TestQuotaRejectsPodsAndDestroyFindsEverything scales past a quota: apply
// fails naming the service and the quota, and destroy, with the state of
// the failed apply, still removes everything apply made, found by label.
func TestQuotaRejectsPodsAndDestroyFindsEverything(t *testing.T) {
	t.Parallel()
	a := admin(t)
	ctx := context.Background()
	c, err := plugin(t, map[string]any{"kubeconfig": needCluster(t).Kubeconfig, "rollout_timeout": "60s"})
	if err != nil {
		t.Fatal(err)
	}
	spec := deployment("faults", "quota", 1)
	spec.Services[0].SecretEnv = []core.SecretRef{{Env: "TOKEN", Ref: "faults/token"}}
	secrets := sdk.SecretValues{"faults/token": "s3cr3t-value"}
	state, err := apply(t, c, spec, secrets, nil)
	if err != nil {
		t.Fatal(err)
	}
	ns := k8splugin.NamespaceOf(spec.Ref())
	d, err := a.AppsV1().Deployments(ns).Get(ctx, "api", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := json.Marshal(d); strings.Contains(string(b), "s3cr3t-value") {
		t.Fatal("the Deployment holds a secret value")
	}
	mustCreate(t, func() error {
		_, err := a.CoreV1().ResourceQuotas(ns).Create(ctx, &corev1.ResourceQuota{ObjectMeta: metav1.ObjectMeta{Name: "two-pods"},
			Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{corev1.ResourcePods: resource.MustParse("2")}}}, metav1.CreateOptions{})
		return err
	})
	spec.Services[0].Replicas = 4
	state, err = apply(t, c, spec, secrets, state)
	if err == nil || !strings.Contains(err.Error(), "service api: pods cannot be created") || !strings.Contains(err.Error(), "exceeded quota") {
		t.Fatalf("apply past the quota: %v", err)
	}
	dctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	if _, err := c.Destroy(dctx, &sdk.DestroyRequest{Deployment: spec.Ref(), State: state}); err != nil {
		t.Fatalf("destroy after the failed apply: %v", err)
	}
	left := leftovers(t, a, "alphaswarm.io/deployment=quota")
	if len(left) > 0 {
		t.Errorf("destroy left %v", left)
	}
}

// leftovers lists, across namespaces, what carries the selector's labels.
func leftovers(t *testing.T, a kubernetes.Interface, selector string) []string {
	t.Helper()
	ctx := context.Background()
	opts := metav1.ListOptions{LabelSelector: selector}
	var left []string
	if l, err := a.AppsV1().Deployments("").List(ctx, opts); err == nil {
		for _, o := range l.Items {
			left = append(left, "deployment/"+o.Namespace+"/"+o.Name)
		}
	}
	if l, err := a.CoreV1().Services("").List(ctx, opts); err == nil {
		for _, o := range l.Items {
			left = append(left, "service/"+o.Namespace+"/"+o.Name)
		}
	}
	if l, err := a.CoreV1().Secrets("").List(ctx, opts); err == nil {
		for _, o := range l.Items {
			left = append(left, "secret/"+o.Namespace+"/"+o.Name)
		}
	}
	if l, err := a.CoreV1().Pods("").List(ctx, opts); err == nil {
		for _, o := range l.Items {
			left = append(left, "pod/"+o.Namespace+"/"+o.Name)
		}
	}
	if l, err := a.CoreV1().Namespaces().List(ctx, opts); err == nil {
		for _, o := range l.Items {
			left = append(left, "namespace/"+o.Name)
		}
	}
	return left
}

// TestUnschedulableFailsWithTheReason asks for more CPU than the node has:
// apply fails with the scheduler's reason, naming the service.
func TestUnschedulableFailsWithTheReason(t *testing.T) {
	t.Parallel()
	c, err := plugin(t, map[string]any{"kubeconfig": needCluster(t).Kubeconfig})
	if err != nil {
		t.Fatal(err)
	}
	spec := deployment("faults", "greedy", 1)
	spec.Services[0].Resources.CPU = 64
	state, err := apply(t, c, spec, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "service api: pod ") || !strings.Contains(err.Error(), "is unschedulable") || !strings.Contains(err.Error(), "Insufficient cpu") {
		t.Fatalf("apply of an unschedulable service: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if _, err := c.Destroy(ctx, &sdk.DestroyRequest{Deployment: spec.Ref(), State: state}); err != nil {
		t.Fatal(err)
	}
}

func TestValidateNames(t *testing.T) {
	t.Parallel()
	c, err := plugin(t, map[string]any{"kubeconfig": needCluster(t).Kubeconfig})
	if err != nil {
		t.Fatal(err)
	}
	spec := deployment("faults", "names", 1)
	spec.Services[0].Name = "1api"
	resp, err := c.Validate(context.Background(), &sdk.ValidateRequest{Deployment: spec})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Diagnostics) != 1 || resp.Diagnostics[0].Path != "service.1api" || !strings.Contains(resp.Diagnostics[0].Summary, "must start with a letter") {
		t.Errorf("diagnostics %+v, want one at service.1api", resp.Diagnostics)
	}
}

// TestKubeconfigData configures the plugin with a kubeconfig's content, as
// an operator's credential gives it: a self-contained one reaches the
// cluster; one that would run a program or read a file of the host is
// refused at kubeconfig_data, naming what, and the program never runs.
func TestKubeconfigData(t *testing.T) {
	t.Parallel()
	content := func(edit func(*clientcmdapi.Config)) string {
		t.Helper()
		cfg, err := clientcmd.LoadFromFile(needCluster(t).Kubeconfig)
		if err == nil {
			err = clientcmdapi.FlattenConfig(cfg)
		}
		if err != nil {
			t.Fatal(err)
		}
		edit(cfg)
		b, err := clientcmd.Write(*cfg)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if _, err := plugin(t, map[string]any{"kubeconfig_data": content(func(*clientcmdapi.Config) {})}); err != nil {
		t.Fatalf("a self-contained kubeconfig: %v", err)
	}
	marker := filepath.Join(t.TempDir(), "ran")
	for name, tc := range map[string]struct {
		edit func(*clientcmdapi.Config)
		want string
	}{
		"an exec plugin": {func(c *clientcmdapi.Config) {
			for _, u := range c.AuthInfos {
				u.Token, u.Exec = "", &clientcmdapi.ExecConfig{Command: "/bin/touch", Args: []string{marker}, APIVersion: "client.authentication.k8s.io/v1", InteractiveMode: clientcmdapi.NeverExecInteractiveMode}
			}
		}, "runs an exec credential plugin (/bin/touch)"},
		"a token file": {func(c *clientcmdapi.Config) {
			for _, u := range c.AuthInfos {
				u.TokenFile = "/etc/hostname"
			}
		}, "names a file"},
		"a CA file": {func(c *clientcmdapi.Config) {
			for _, cl := range c.Clusters {
				cl.CertificateAuthorityData, cl.CertificateAuthority = nil, "/etc/ssl/certs/ca-certificates.crt"
			}
		}, "names a file (certificate-authority)"},
	} {
		_, err := plugin(t, map[string]any{"kubeconfig_data": content(tc.edit)})
		var invalid *sdk.InvalidConfigError
		if !errors.As(err, &invalid) || invalid.Path != "kubeconfig_data" || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error at kubeconfig_data containing %q", name, err, tc.want)
		}
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("the exec credential plugin ran")
	}
}
