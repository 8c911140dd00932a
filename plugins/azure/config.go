package azure

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/appcontainers/armappcontainers/v3"

	"github.com/alphaswarm/controller/sdk"
)

// version is set at build time with -ldflags "-X .../plugins/azure.version=...".
var version = "0.1.0"

// config is the body of a backend "azure" "<name>" block. Every attribute
// is the operator's: a tenant's topology sets none of them.
type config struct {
	SubscriptionID string `json:"subscription_id"`
	ResourceGroup  string `json:"resource_group"`
	Location       string `json:"location"`
	Environment    string `json:"environment"`
	TenantID       string `json:"tenant_id"`
	ClientID       string `json:"client_id"`
	ClientSecret   string `json:"client_secret"`
	ClientCert     string `json:"client_certificate"`
	FederatedToken string `json:"federated_token"`
	ManagedID      bool   `json:"managed_identity"`
	CACertificate  string `json:"ca_certificate"`
	NamePrefix     string `json:"name_prefix"`
	Endpoint       string `json:"endpoint"`
	AuthorityHost  string `json:"authority_host"`
	PollInterval   string `json:"poll_interval"`
	ApplyTimeout   string `json:"apply_timeout"`

	CreateEnvironment     bool   `json:"create_environment"`
	LogAnalyticsCustomer  string `json:"log_analytics_customer_id"`
	LogAnalyticsSharedKey string `json:"log_analytics_shared_key"`

	pollInterval, applyTimeout time.Duration
}

const (
	defaultEndpoint  = "https://management.azure.com"
	defaultAuthority = "https://login.microsoftonline.com/"
)

var schema = sdk.Schema{
	Attributes: []sdk.Attribute{
		{Name: "subscription_id", Type: sdk.TypeString, Required: true, Description: "Azure subscription ID (a GUID) the apps are created in."},
		{Name: "resource_group", Type: sdk.TypeString, Required: true, Description: "Existing resource group of the managed environment and of every app."},
		{Name: "location", Type: sdk.TypeString, Required: true, Description: "Azure region of the apps, such as westeurope; the managed environment's."},
		{Name: "environment", Type: sdk.TypeString, Required: true,
			Description: "Name of the Container Apps managed environment in resource_group: an existing one, or the one Configure creates with create_environment."},
		{Name: "create_environment", Type: sdk.TypeBool, Default: false,
			Description: "When the environment does not exist, Configure creates it in location (and waits); it is the operator's: no destroy deletes it. An existing one is used as it is."},
		{Name: "log_analytics_customer_id", Type: sdk.TypeString, Default: "",
			Description: "With create_environment: the customer (workspace) ID of the Log Analytics workspace the created environment sends its apps' logs to; empty: no log destination."},
		{Name: "log_analytics_shared_key", Type: sdk.TypeString, Default: "", Sensitive: true,
			Description: "With log_analytics_customer_id: the workspace's shared key, as an operator's credential(\"...\") gives it."},
		{Name: "tenant_id", Type: sdk.TypeString, Default: "", Description: "Entra ID tenant of the service principal (not with managed_identity)."},
		{Name: "client_id", Type: sdk.TypeString, Default: "",
			Description: "Application (client) ID of the service principal; with managed_identity, of a user-assigned identity (empty: the system-assigned one)."},
		{Name: "client_secret", Type: sdk.TypeString, Default: "", Sensitive: true,
			Description: "Client secret of the service principal, as an operator's credential(\"...\") gives it. Set it or client_certificate."},
		{Name: "client_certificate", Type: sdk.TypeString, Default: "", Sensitive: true,
			Description: "PEM of the service principal's certificate and its unencrypted private key, as an operator's credential(\"...\") gives it. Set it or client_secret."},
		{Name: "federated_token", Type: sdk.TypeString, Default: "", Sensitive: true,
			Description: "Workload identity: a token of an identity provider the application trusts through a federated credential (such as a Kubernetes service account token), as an operator's credential(\"...\") gives it; sent to Entra ID as a client assertion. Not with client_secret, client_certificate or managed_identity."},
		{Name: "managed_identity", Type: sdk.TypeBool, Default: false,
			Description: "Sign in as the managed identity of the machine the host runs on (IMDS, or IDENTITY_ENDPOINT where the host passes it) instead of a service principal."},
		{Name: "ca_certificate", Type: sdk.TypeString, Default: "",
			Description: "PEM of certificate authorities trusted, besides the system's, for every connection the plugin makes (ARM, Entra ID, log streams): a private cloud's or a TLS-inspecting proxy's."},
		{Name: "name_prefix", Type: sdk.TypeString, Default: "as",
			Description: "Start of every app name: 1 to 8 lower-case letters and digits, starting with a letter."},
		{Name: "endpoint", Type: sdk.TypeString, Default: defaultEndpoint,
			Description: "Azure Resource Manager endpoint (https); another cloud's, or a test double's."},
		{Name: "authority_host", Type: sdk.TypeString, Default: defaultAuthority,
			Description: "Entra ID authority host (https) that issues the service principal's tokens."},
		{Name: "poll_interval", Type: sdk.TypeString, Default: "5s", Description: "Pause between two polls of a long-running operation."},
		{Name: "apply_timeout", Type: sdk.TypeString, Default: "15m", Description: "How long apply waits for one app to be provisioned."},
	},
}

var (
	reGUID       = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	rePrefix     = regexp.MustCompile(`^[a-z][a-z0-9]{0,7}$`)
	reGroup      = regexp.MustCompile(`^[-\w._()]{1,90}$`)
	reLocation   = regexp.MustCompile(`^[a-z0-9]{1,40}$`)
	reEnvName    = regexp.MustCompile(`^[a-zA-Z0-9][-a-zA-Z0-9]{0,58}[a-zA-Z0-9]$|^[a-zA-Z0-9]$`)
	reTenantName = regexp.MustCompile(`^[-a-zA-Z0-9.]{1,64}$`)
)

// parseConfig decodes and checks a configuration, offline: Configure and
// ValidateConfig both call it, so that validate accepts what Configure
// accepts. It reaches nothing, and skips the values in unknown (the
// credentials the host resolves only when it configures an instance).
func parseConfig(raw json.RawMessage, unknown sdk.Unknown) (config, error) {
	var c config
	if err := sdk.DecodeConfig(raw, &c); err != nil {
		return c, err
	}
	check := func(path string, ok bool, format string, args ...any) error {
		if ok || unknown.Has(path) {
			return nil
		}
		return sdk.InvalidConfig(path, format, args...)
	}
	var err error
	if !unknown.Has("poll_interval") {
		if c.pollInterval, err = time.ParseDuration(c.PollInterval); err != nil || c.pollInterval <= 0 {
			return c, sdk.InvalidConfig("poll_interval", "%q is not a positive duration such as \"5s\"", c.PollInterval)
		}
	}
	if !unknown.Has("apply_timeout") {
		if c.applyTimeout, err = time.ParseDuration(c.ApplyTimeout); err != nil || c.applyTimeout <= 0 {
			return c, sdk.InvalidConfig("apply_timeout", "%q is not a positive duration such as \"15m\"", c.ApplyTimeout)
		}
	}
	for _, e := range []error{
		check("subscription_id", reGUID.MatchString(c.SubscriptionID), "%q is not a subscription ID (a GUID)", c.SubscriptionID),
		check("resource_group", reGroup.MatchString(c.ResourceGroup) && !strings.HasSuffix(c.ResourceGroup, "."),
			"%q is not a resource group name (1 to 90 letters, digits, '-', '_', '.', '(' and ')', not ending with '.')", c.ResourceGroup),
		check("location", reLocation.MatchString(c.Location), "%q is not an Azure region name such as westeurope", c.Location),
		check("environment", reEnvName.MatchString(c.Environment), "%q is not a managed environment name (letters, digits and '-', at most 60)", c.Environment),
		check("tenant_id", c.ManagedID || reGUID.MatchString(c.TenantID) || reTenantName.MatchString(c.TenantID), "%q is not a tenant ID or domain", c.TenantID),
		check("client_id", c.ManagedID && c.ClientID == "" || reGUID.MatchString(c.ClientID), "%q is not an application (client) ID (a GUID)", c.ClientID),
		checkCredential(c, unknown),
		check("name_prefix", rePrefix.MatchString(c.NamePrefix), "%q must be 1 to 8 lower-case letters and digits, starting with a letter", c.NamePrefix),
		checkHTTPS("endpoint", c.Endpoint, unknown),
		checkHTTPS("authority_host", c.AuthorityHost, unknown),
		checkCA(c, unknown),
		checkEnvironmentCreation(c, unknown),
	} {
		if e != nil {
			return c, e
		}
	}
	return c, nil
}

// checkCredential wants exactly one of client_secret, client_certificate,
// federated_token and managed_identity, and a certificate that parses.
func checkCredential(c config, unknown sdk.Unknown) error {
	var kinds []string
	for _, k := range []struct {
		path string
		set  bool
	}{
		{"client_secret", c.ClientSecret != "" || unknown.Has("client_secret")},
		{"client_certificate", c.ClientCert != "" || unknown.Has("client_certificate")},
		{"federated_token", c.FederatedToken != "" || unknown.Has("federated_token")},
		{"managed_identity", c.ManagedID},
	} {
		if k.set {
			kinds = append(kinds, k.path)
		}
	}
	switch {
	case len(kinds) == 0:
		return sdk.InvalidConfig("client_secret", "set client_secret, client_certificate, federated_token or managed_identity: the plugin's credential")
	case len(kinds) > 1:
		return sdk.InvalidConfig(kinds[len(kinds)-1], "%s excludes %s: give one credential", kinds[len(kinds)-1], strings.Join(kinds[:len(kinds)-1], " and "))
	case c.ClientCert != "" && !unknown.Has("client_certificate"):
		if _, _, err := azidentity.ParseCertificates([]byte(c.ClientCert), nil); err != nil {
			// ParseCertificates' message names no key material.
			return sdk.InvalidConfig("client_certificate", "not a PEM certificate with its unencrypted private key: %v", err)
		}
	case c.FederatedToken != "" && !unknown.Has("federated_token") && strings.Count(c.FederatedToken, ".") != 2:
		// Entra ID takes only a JWT as a client assertion; the message
		// shows nothing of the value.
		return sdk.InvalidConfig("federated_token", "not a JWT (three base64url parts joined by dots), as a federated identity provider issues")
	}
	return nil
}

// checkEnvironmentCreation checks the settings of an environment the
// plugin creates: they are only for one it creates, and the Log Analytics
// workspace comes with both its customer ID and its shared key, or not at
// all. No message shows the key.
func checkEnvironmentCreation(c config, unknown sdk.Unknown) error {
	customer := c.LogAnalyticsCustomer != "" || unknown.Has("log_analytics_customer_id")
	key := c.LogAnalyticsSharedKey != "" || unknown.Has("log_analytics_shared_key")
	switch {
	case !c.CreateEnvironment && customer:
		return sdk.InvalidConfig("log_analytics_customer_id", "only for an environment the plugin creates: set create_environment = true, or leave it out")
	case !c.CreateEnvironment && key:
		return sdk.InvalidConfig("log_analytics_shared_key", "only for an environment the plugin creates: set create_environment = true, or leave it out")
	case customer && !key:
		return sdk.InvalidConfig("log_analytics_shared_key", "log_analytics_customer_id needs the workspace's shared key too")
	case key && !customer:
		return sdk.InvalidConfig("log_analytics_customer_id", "log_analytics_shared_key needs the workspace's customer ID too")
	case c.LogAnalyticsCustomer != "" && !unknown.Has("log_analytics_customer_id") && !reGUID.MatchString(c.LogAnalyticsCustomer):
		return sdk.InvalidConfig("log_analytics_customer_id", "%q is not a Log Analytics workspace customer ID (a GUID)", c.LogAnalyticsCustomer)
	case c.LogAnalyticsSharedKey != "" && !unknown.Has("log_analytics_shared_key"):
		if _, err := base64.StdEncoding.DecodeString(c.LogAnalyticsSharedKey); err != nil {
			return sdk.InvalidConfig("log_analytics_shared_key", "not a workspace shared key (base64, as the workspace's agents page gives it)")
		}
	}
	return nil
}

// checkCA wants a ca_certificate, when set, to hold at least one PEM
// certificate and nothing else that looks like PEM.
func checkCA(c config, unknown sdk.Unknown) error {
	if c.CACertificate == "" || unknown.Has("ca_certificate") {
		return nil
	}
	if _, err := caPool(c.CACertificate); err != nil {
		return sdk.InvalidConfig("ca_certificate", "%v", err)
	}
	return nil
}

// caPool is the system's certificate pool with the PEM certificates of
// pemData added.
func caPool(pemData string) (*x509.CertPool, error) {
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	rest, n := []byte(pemData), 0
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("parse CA certificates: a PEM block of type %q, want only CERTIFICATE", block.Type)
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse CA certificate %d: %w", n+1, err)
		}
		pool.AddCert(cert)
		n++
	}
	if n == 0 || strings.TrimSpace(string(rest)) != "" {
		return nil, errors.New("parse CA certificates: not PEM certificates only")
	}
	return pool, nil
}

// httpClient is the client of every connection the plugin makes: Go's
// default transport, trusting ca_certificate besides the system's roots
// when it is set.
func httpClient(c config) (*http.Client, error) {
	if c.CACertificate == "" {
		return &http.Client{}, nil
	}
	pool, err := caPool(c.CACertificate)
	if err != nil {
		return nil, sdk.InvalidConfig("ca_certificate", "%v", err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return &http.Client{Transport: tr}, nil
}

// checkHTTPS accepts an https URL without credentials, query or fragment.
func checkHTTPS(path, raw string, unknown sdk.Unknown) error {
	if unknown.Has(path) {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return sdk.InvalidConfig(path, "%q is not an https URL (such as %s)", raw, map[string]string{"endpoint": defaultEndpoint, "authority_host": defaultAuthority}[path])
	}
	return nil
}

// ValidateConfig checks a configuration offline, with parseConfig: the
// credentials, subscription and environment are read by Configure only.
func (b *Backend) ValidateConfig(_ context.Context, req *sdk.ValidateConfigRequest) (*sdk.ValidateConfigResponse, error) {
	_, err := parseConfig(req.Config, req.Unknown)
	return &sdk.ValidateConfigResponse{}, err
}

func (b *Backend) Info(context.Context) (*sdk.InfoResponse, error) {
	return &sdk.InfoResponse{
		Name: "azure", Version: version, ConfigSchema: schema,
		Description: "Runs deployments as Azure Container Apps in a managed environment (an existing one, or one it creates when the operator allows it).",
	}, nil
}

// Configure builds the credential and the clients, then reads the managed
// environment, so that wrong credentials, a wrong subscription or a
// missing environment fail here, naming the attribute.
func (b *Backend) Configure(ctx context.Context, req *sdk.ConfigureRequest) (*sdk.ConfigureResponse, error) {
	c, err := parseConfig(req.Config, nil)
	if err != nil {
		return nil, err
	}
	hc, err := httpClient(c)
	if err != nil {
		return nil, err
	}
	cl, err := newClients(c, hc)
	if err != nil {
		return nil, err
	}
	resp, err := cl.envs.Get(ctx, c.ResourceGroup, c.Environment, nil)
	env := resp.ManagedEnvironment
	var re *azcore.ResponseError
	if c.CreateEnvironment && errors.As(err, &re) && re.StatusCode == http.StatusNotFound {
		env, err = createEnvironment(ctx, c, cl)
	}
	if err == nil {
		env, err = awaitEnvironment(ctx, c, cl, env)
	}
	if err != nil {
		return nil, configureError(c, err)
	}
	if env.ID == nil {
		return nil, fmt.Errorf("read managed environment %s: the answer has no ID", c.Environment)
	}
	cl.envID = *env.ID
	if env.Properties != nil && env.Properties.DefaultDomain != nil {
		cl.defaultDomain = *env.Properties.DefaultDomain
	}
	b.cfg, b.cl, b.http = c, cl, hc
	return &sdk.ConfigureResponse{}, nil
}

// configureError names the attribute at fault when Configure cannot read
// (or create) the managed environment.
func configureError(c config, err error) error {
	var re *azcore.ResponseError
	var authErr *azidentity.AuthenticationFailedError
	switch {
	case errors.As(err, &authErr):
		path := "client_secret"
		switch {
		case c.ManagedID:
			path = "managed_identity"
		case c.ClientCert != "":
			path = "client_certificate"
		case c.FederatedToken != "":
			path = "federated_token"
		}
		who := fmt.Sprintf("the service principal %s of tenant %s", c.ClientID, c.TenantID)
		if c.ManagedID {
			who = "the managed identity"
		}
		return sdk.InvalidConfig(path, "%s could not sign in: %s", who, authFailure(authErr))
	case errors.As(err, &re) && re.StatusCode == http.StatusNotFound && !c.CreateEnvironment:
		return sdk.InvalidConfig("environment", "managed environment %q not found in resource group %q of subscription %s (create_environment = true lets the plugin create it)",
			c.Environment, c.ResourceGroup, c.SubscriptionID)
	case errors.As(err, &re) && (re.StatusCode == http.StatusForbidden || re.StatusCode == http.StatusUnauthorized):
		what, role := "read", "Contributor role, or Container Apps Contributor,"
		if c.CreateEnvironment {
			what = "read or create"
		}
		return sdk.InvalidConfig("client_id", "the service principal may not %s managed environment %q: %s (it needs the %s on resource group %q)",
			what, c.Environment, azureMessage(err), role, c.ResourceGroup)
	}
	var ce *createError
	if errors.As(err, &ce) {
		return armError("create managed environment "+c.Environment, ce.err)
	}
	return armError("read managed environment "+c.Environment, err)
}

// createError marks an error of the environment's creation.
type createError struct{ err error }

func (e *createError) Error() string { return e.err.Error() }
func (e *createError) Unwrap() error { return e.err }

// createEnvironment creates the managed environment (create_environment)
// in the configured location and waits for it, at most apply_timeout. It
// is sent only when the environment does not exist: one that does is the
// operator's as it is. Its tag says the plugin made it; no destroy deletes
// it, since destroy deletes container apps only.
func createEnvironment(ctx context.Context, c config, cl *clients) (armappcontainers.ManagedEnvironment, error) {
	ctx, cancel := context.WithTimeout(ctx, c.applyTimeout)
	defer cancel()
	env := armappcontainers.ManagedEnvironment{
		Location:   to.Ptr(c.Location),
		Tags:       map[string]*string{"alphaswarm-managed-by": to.Ptr("swarm-backend-azure")},
		Properties: &armappcontainers.ManagedEnvironmentProperties{},
	}
	if c.LogAnalyticsCustomer != "" {
		env.Properties.AppLogsConfiguration = &armappcontainers.AppLogsConfiguration{
			Destination: to.Ptr("log-analytics"),
			LogAnalyticsConfiguration: &armappcontainers.LogAnalyticsConfiguration{
				CustomerID: to.Ptr(c.LogAnalyticsCustomer), SharedKey: to.Ptr(c.LogAnalyticsSharedKey),
			},
		}
	}
	poller, err := cl.envs.BeginCreateOrUpdate(ctx, c.ResourceGroup, c.Environment, env, nil)
	var re *azcore.ResponseError
	if errors.As(err, &re) && re.StatusCode == http.StatusConflict {
		// Another Configure (another host, or a killed one) is creating
		// it: read it, and awaitEnvironment waits for that creation.
		resp, gerr := cl.envs.Get(ctx, c.ResourceGroup, c.Environment, nil)
		if gerr == nil {
			return resp.ManagedEnvironment, nil
		}
	}
	if err != nil {
		return env, &createError{err}
	}
	resp, err := poller.PollUntilDone(ctx, &runtime.PollUntilDoneOptions{Frequency: c.pollInterval})
	if err != nil {
		return env, &createError{err}
	}
	if resp.Properties != nil && resp.Properties.ProvisioningState != nil &&
		*resp.Properties.ProvisioningState != armappcontainers.EnvironmentProvisioningStateSucceeded {
		return env, &createError{fmt.Errorf("provisioning state %s", *resp.Properties.ProvisioningState)}
	}
	return resp.ManagedEnvironment, nil
}

// awaitEnvironment waits, at most apply_timeout, while the environment is
// still being created (by a Configure killed during its creation, or by
// another host's): apps cannot join it before. Other states are left to
// Azure to judge when apps are sent.
func awaitEnvironment(ctx context.Context, c config, cl *clients, env armappcontainers.ManagedEnvironment) (armappcontainers.ManagedEnvironment, error) {
	creating := func(e armappcontainers.ManagedEnvironment) bool {
		if e.Properties == nil || e.Properties.ProvisioningState == nil {
			return false
		}
		switch *e.Properties.ProvisioningState {
		case armappcontainers.EnvironmentProvisioningStateWaiting, armappcontainers.EnvironmentProvisioningStateInitializationInProgress,
			armappcontainers.EnvironmentProvisioningStateInfrastructureSetupInProgress:
			return true
		}
		return false
	}
	if !creating(env) {
		return env, nil
	}
	ctx, cancel := context.WithTimeout(ctx, c.applyTimeout)
	defer cancel()
	for creating(env) {
		select {
		case <-ctx.Done():
			return env, fmt.Errorf("await managed environment %s, still %s: %w", c.Environment, *env.Properties.ProvisioningState, ctx.Err())
		case <-time.After(c.pollInterval):
		}
		resp, err := cl.envs.Get(ctx, c.ResourceGroup, c.Environment, nil)
		if err != nil {
			return env, err
		}
		env = resp.ManagedEnvironment
	}
	return env, nil
}

// clients are the Azure SDK clients of one configured backend.
type clients struct {
	apps     *armappcontainers.ContainerAppsClient
	replicas *armappcontainers.ContainerAppsRevisionReplicasClient
	revs     *armappcontainers.ContainerAppsRevisionsClient
	envs     *armappcontainers.ManagedEnvironmentsClient
	// arm sends the requests no generated client has (Azure Monitor's
	// metrics), through the same pipeline: credential, retries, endpoint.
	arm   *arm.Client
	envID string
	// defaultDomain is the managed environment's DNS suffix: an app's
	// FQDN is <app>.<defaultDomain>, or <app>.internal.<defaultDomain>
	// with internal ingress.
	defaultDomain string
}

// newClients builds the service principal's credential and the clients,
// both against the configured endpoints; it sends nothing yet.
func newClients(c config, hc *http.Client) (*clients, error) {
	cloudCfg := cloud.AzurePublic
	custom := c.Endpoint != defaultEndpoint || c.AuthorityHost != defaultAuthority
	if custom {
		cloudCfg = cloud.Configuration{
			ActiveDirectoryAuthorityHost: c.AuthorityHost,
			Services: map[cloud.ServiceName]cloud.ServiceConfiguration{
				cloud.ResourceManager: {Endpoint: c.Endpoint, Audience: c.Endpoint},
			},
		}
	}
	client := policy.ClientOptions{Cloud: cloudCfg, Telemetry: policy.TelemetryOptions{ApplicationID: "alphaswarm/" + version}, Transport: hc}
	// A custom authority (a sovereign cloud, Azure Stack, a test double)
	// is not in Entra ID's list of known hosts: no instance discovery.
	var cred azcore.TokenCredential
	if c.ManagedID {
		opts := &azidentity.ManagedIdentityCredentialOptions{ClientOptions: client}
		if c.ClientID != "" {
			opts.ID = azidentity.ClientID(c.ClientID)
		}
		var err error
		if cred, err = azidentity.NewManagedIdentityCredential(opts); err != nil {
			return nil, sdk.InvalidConfig("managed_identity", "%v", err)
		}
	} else if c.ClientCert != "" {
		certs, key, err := azidentity.ParseCertificates([]byte(c.ClientCert), nil)
		if err != nil {
			return nil, sdk.InvalidConfig("client_certificate", "not a PEM certificate with its unencrypted private key: %v", err)
		}
		cred, err = azidentity.NewClientCertificateCredential(c.TenantID, c.ClientID, certs, key, &azidentity.ClientCertificateCredentialOptions{
			ClientOptions: client, DisableInstanceDiscovery: custom,
		})
		if err != nil {
			return nil, sdk.InvalidConfig("tenant_id", "%v", err)
		}
	} else if c.FederatedToken != "" {
		// Workload identity: the federated token is the client assertion.
		// It is the value the credential resolver gave at Configure: a
		// token that expires before the plugin is configured again makes
		// sign-ins fail (docs/azure.md says so).
		token := c.FederatedToken
		var err error
		cred, err = azidentity.NewClientAssertionCredential(c.TenantID, c.ClientID, func(context.Context) (string, error) { return token, nil },
			&azidentity.ClientAssertionCredentialOptions{ClientOptions: client, DisableInstanceDiscovery: custom})
		if err != nil {
			return nil, sdk.InvalidConfig("tenant_id", "%v", err)
		}
	} else {
		var err error
		cred, err = azidentity.NewClientSecretCredential(c.TenantID, c.ClientID, c.ClientSecret, &azidentity.ClientSecretCredentialOptions{
			ClientOptions: client, DisableInstanceDiscovery: custom,
		})
		if err != nil {
			return nil, sdk.InvalidConfig("tenant_id", "%v", err)
		}
	}
	opts := &arm.ClientOptions{ClientOptions: client}
	factory, err := armappcontainers.NewClientFactory(c.SubscriptionID, cred, opts)
	if err != nil {
		return nil, sdk.InvalidConfig("endpoint", "%v", err)
	}
	armClient, err := arm.NewClient("alphaswarm/plugins/azure", "v"+version, cred, opts)
	if err != nil {
		if armClient, err = arm.NewClient("alphaswarm/plugins/azure", "v0.0.0", cred, opts); err != nil {
			return nil, sdk.InvalidConfig("endpoint", "%v", err)
		}
	}
	return &clients{
		arm:      armClient,
		apps:     factory.NewContainerAppsClient(),
		replicas: factory.NewContainerAppsRevisionReplicasClient(),
		revs:     factory.NewContainerAppsRevisionsClient(),
		envs:     factory.NewManagedEnvironmentsClient(),
	}, nil
}

// authFailure is what Entra ID said of a failed sign-in, without the
// request (which carries nothing secret, but is long).
func authFailure(err *azidentity.AuthenticationFailedError) string {
	if err.RawResponse == nil {
		return err.Error()
	}
	var body struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if json.NewDecoder(err.RawResponse.Body).Decode(&body) == nil && body.Error != "" {
		return body.Error + ": " + firstLine(body.Description)
	}
	return err.RawResponse.Status
}

func firstLine(s string) string {
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		return s[:i]
	}
	return s
}
