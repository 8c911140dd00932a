package kubernetes

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"k8s.io/client-go/discovery"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/sdk"
)

// version is set at build time with -ldflags "-X .../plugins/kubernetes.version=...".
var version = "0.1.0"

// config is the body of a backend "kubernetes" "<name>" block.
type config struct {
	Kubeconfig     string  `json:"kubeconfig"`
	KubeconfigData string  `json:"kubeconfig_data"`
	Context        string  `json:"context"`
	InCluster      bool    `json:"in_cluster"`
	Namespace      string  `json:"namespace"`
	FieldManager   string  `json:"field_manager"`
	QPS            float64 `json:"qps"`
	Burst          float64 `json:"burst"`
	RolloutTimeout string  `json:"rollout_timeout"`

	rolloutTimeout time.Duration
	kubeconfig     *clientcmdapi.Config // KubeconfigData, parsed and checked by check
}

var schema = sdk.Schema{
	Attributes: []sdk.Attribute{
		{Name: "kubeconfig", Type: sdk.TypeString, Default: "",
			Description: "Path of the kubeconfig file. Empty: $KUBECONFIG when the host passes it, else ~/.kube/config."},
		{Name: "kubeconfig_data", Type: sdk.TypeString, Default: "", Sensitive: true,
			Description: "A kubeconfig's content, as an operator's credential(\"...\") gives it. It must be self-contained: no exec or auth-provider credential plugins, no file references."},
		{Name: "context", Type: sdk.TypeString, Default: "", Description: "Context of the kubeconfig to use; empty: its current context."},
		{Name: "in_cluster", Type: sdk.TypeBool, Default: false, Description: "Use the pod's service account instead of a kubeconfig."},
		{Name: "namespace", Type: sdk.TypeString, Default: "",
			Description: "Namespace of every deployment, or a template of it with {tenant}, {environment} and {deployment} (such as t-{tenant}); it must exist, and deployments share it. Empty: one per deployment, <tenant>-<environment>-<deployment>-<hash>, created and labelled by apply."},
		{Name: "field_manager", Type: sdk.TypeString, Default: "alphaswarm", Description: "Field manager of server-side apply."},
		{Name: "qps", Type: sdk.TypeNumber, Default: 50, Description: "Client-side rate limit, requests per second."},
		{Name: "burst", Type: sdk.TypeNumber, Default: 100, Description: "Client-side burst above qps."},
		{Name: "rollout_timeout", Type: sdk.TypeString, Default: "5m", TenantSettable: true,
			Description: "How long apply waits for a rollout; Deployments also get it as progressDeadlineSeconds."},
	},
}

// parseConfig decodes and checks a configuration, offline: Configure and
// ValidateConfig both call it. It reads no file, no environment and no
// cluster, and skips the values that are unknown; a kubeconfig given as
// content is parsed and checked here, once.
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
	if c.rolloutTimeout, err = time.ParseDuration(c.RolloutTimeout); known("rollout_timeout") && (err != nil || c.rolloutTimeout <= 0) {
		return sdk.InvalidConfig("rollout_timeout", "%q is not a positive duration such as \"5m\"", c.RolloutTimeout)
	}
	if sample := namespaceFor(c.Namespace, core.DeploymentRef{Tenant: "t", Environment: "e", Name: "d"}); c.Namespace != "" && known("namespace") && !isDNSLabel(sample) {
		return sdk.InvalidConfig("namespace", "%q is not a valid namespace name or template (lower-case letters, digits, '-' and the placeholders {tenant}, {environment}, {deployment}; at most 63)", c.Namespace)
	}
	if (c.FieldManager == "" || len(c.FieldManager) > 128) && known("field_manager") {
		return sdk.InvalidConfig("field_manager", "must be 1..128 characters")
	}
	if c.QPS <= 0 || c.Burst < 1 {
		return sdk.InvalidConfig("qps", "qps must be > 0 and burst >= 1")
	}
	if c.InCluster && (c.Kubeconfig != "" || c.KubeconfigData != "" || c.Context != "") {
		return sdk.InvalidConfig("in_cluster", "in_cluster excludes kubeconfig, kubeconfig_data and context")
	}
	if c.Kubeconfig != "" && c.KubeconfigData != "" {
		return sdk.InvalidConfig("kubeconfig_data", "kubeconfig_data excludes kubeconfig: give the content or a path, not both")
	}
	if c.KubeconfigData != "" && known("kubeconfig_data") {
		kc, err := clientcmd.Load([]byte(c.KubeconfigData))
		if err != nil {
			return sdk.InvalidConfig("kubeconfig_data", "not a kubeconfig: %v", err)
		}
		if err := selfContained(kc); err != nil {
			return sdk.InvalidConfig("kubeconfig_data", "%v", err)
		}
		if c.Context != "" && known("context") && kc.Contexts[c.Context] == nil {
			return sdk.InvalidConfig("context", "context %q does not exist in kubeconfig_data", c.Context)
		}
		c.kubeconfig = kc
	}
	return nil
}

// selfContained refuses a kubeconfig given as content that would make the
// plugin run a program (exec credential plugins, auth providers) or read a
// file of the host: everything it needs must be in the content.
func selfContained(kc *clientcmdapi.Config) error {
	for name, a := range kc.AuthInfos {
		switch {
		case a.Exec != nil:
			return fmt.Errorf("user %q runs an exec credential plugin (%s)", name, a.Exec.Command)
		case a.AuthProvider != nil:
			return fmt.Errorf("user %q uses the auth provider %q", name, a.AuthProvider.Name)
		case a.ClientCertificate != "" || a.ClientKey != "" || a.TokenFile != "":
			return fmt.Errorf("user %q names a file (client-certificate, client-key or tokenFile); embed the data instead", name)
		}
	}
	for name, cl := range kc.Clusters {
		if cl.CertificateAuthority != "" {
			return fmt.Errorf("cluster %q names a file (certificate-authority); embed certificate-authority-data instead", name)
		}
	}
	return nil
}

// restConfig loads the cluster's address and credentials.
func (c *config) restConfig() (*rest.Config, error) {
	if c.InCluster {
		rc, err := rest.InClusterConfig()
		if err != nil {
			return nil, sdk.InvalidConfig("in_cluster", "%v", err)
		}
		return rc, nil
	}
	var loader clientcmd.ClientConfig
	if c.kubeconfig != nil {
		loader = clientcmd.NewNonInteractiveClientConfig(*c.kubeconfig, c.Context, &clientcmd.ConfigOverrides{CurrentContext: c.Context}, nil)
	} else {
		rules := clientcmd.NewDefaultClientConfigLoadingRules()
		if c.Kubeconfig != "" {
			rules.ExplicitPath = c.Kubeconfig
		}
		loader = clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: c.Context})
	}
	rc, err := loader.ClientConfig()
	if err != nil {
		path := "kubeconfig"
		if c.Context != "" && (clientcmd.IsContextNotFound(err) || strings.Contains(err.Error(), fmt.Sprintf("context %q", c.Context))) {
			path = "context"
		}
		return nil, sdk.InvalidConfig(path, "%v", err)
	}
	return rc, nil
}

func (b *Backend) Info(context.Context) (*sdk.InfoResponse, error) {
	return &sdk.InfoResponse{
		Name: "kubernetes", Version: version, ConfigSchema: schema,
		Description: "Runs deployments as Deployments and Services on a Kubernetes cluster.",
	}, nil
}

// ValidateConfig checks a configuration offline, with parseConfig: it
// reaches no cluster and reads no kubeconfig file.
func (b *Backend) ValidateConfig(_ context.Context, req *sdk.ValidateConfigRequest) (*sdk.ValidateConfigResponse, error) {
	_, err := parseConfig(req.Config, req.Unknown)
	return &sdk.ValidateConfigResponse{}, err
}

// Configure loads the credentials and checks that the API server answers,
// so a wrong address or context fails here, naming the server.
func (b *Backend) Configure(ctx context.Context, req *sdk.ConfigureRequest) (*sdk.ConfigureResponse, error) {
	c, err := parseConfig(req.Config, nil)
	if err != nil {
		return nil, err
	}
	rc, err := c.restConfig()
	if err != nil {
		return nil, err
	}
	rc.QPS, rc.Burst = float32(c.QPS), int(c.Burst)
	rc.UserAgent = "swarm-backend-kubernetes/" + version
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil, sdk.InvalidConfig("kubeconfig", "%v", err)
	}
	disco, err := discovery.NewDiscoveryClientForConfig(rc)
	if err != nil {
		return nil, sdk.InvalidConfig("kubeconfig", "%v", err)
	}
	b.rest = rc
	if _, err := disco.ServerVersion(); err != nil {
		return nil, b.apiError("reach the Kubernetes API server at "+rc.Host, err)
	}
	b.cfg, b.client, b.discovery = c, cs, disco
	return &sdk.ConfigureResponse{}, nil
}
