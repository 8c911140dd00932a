package gcp

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	logging "cloud.google.com/go/logging/apiv2"
	monitoring "cloud.google.com/go/monitoring/apiv3/v2"
	run "cloud.google.com/go/run/apiv2"
	"cloud.google.com/go/run/apiv2/runpb"
	secretmanager "cloud.google.com/go/secretmanager/apiv1"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/sdk"
)

// version is set at build time with -ldflags "-X .../plugins/gcp.version=...".
var version = "0.1.0"

// config is the body of a backend "gcp" "<name>" block.
type config struct {
	Project        string `json:"project"`
	Region         string `json:"region"`
	Credentials    string `json:"credentials"`
	DefaultCreds   bool   `json:"use_default_credentials"`
	ServiceAccount string `json:"service_account"`
	// TenantAccounts maps a tenant ID to the service account its
	// deployments run as (tenant_service_accounts).
	TenantAccounts   map[string]string `json:"tenant_service_accounts"`
	Ingress          string            `json:"ingress"`
	NamePrefix       string            `json:"name_prefix"`
	Endpoint         string            `json:"endpoint"`
	OperationTimeout string            `json:"operation_timeout"`

	operationTimeout time.Duration
	ingress          runpb.IngressTraffic
	// plaintext: the endpoint is a loopback test server, reached without
	// TLS and without credentials.
	plaintext bool
}

var schema = sdk.Schema{
	Attributes: []sdk.Attribute{
		{Name: "project", Type: sdk.TypeString, Required: true, Description: "Project ID the services and secrets live in."},
		{Name: "region", Type: sdk.TypeString, Required: true, Description: "Cloud Run region, such as europe-west1."},
		{Name: "credentials", Type: sdk.TypeString, Default: "", Sensitive: true,
			Description: "A service account key, or an external account (workload identity federation) configuration whose token comes from a URL or AWS, as JSON, as an operator's credential(\"...\") gives it; only use_default_credentials and a loopback test endpoint need none."},
		{Name: "use_default_credentials", Type: sdk.TypeBool, Default: false,
			Description: "Use Google's application default credentials instead of a key: the metadata server's identity when the controller runs on Google Cloud (GKE workload identity, Compute Engine, Cloud Run). Off unless the operator turns it on; excludes credentials."},
		{Name: "service_account", Type: sdk.TypeString, Default: "",
			Description: "Email of the service account the services of every tenant run as; empty: the project's default compute service account. Every tenant granted this backend then shares one identity, and with it the secrets and invoker grants it holds: prefer tenant_service_accounts, or one backend per tenant. Excludes tenant_service_accounts."},
		{Name: "tenant_service_accounts", Type: sdk.MapOf(sdk.TypeString), Default: map[string]any{},
			Description: "Tenant ID to the email of the service account that tenant's services run as, which alone is granted its secrets and roles/run.invoker on its called services; a tenant not in the map is refused at plan and apply. Excludes service_account."},
		{Name: "ingress", Type: sdk.TypeString, Default: "all",
			Description: "Who may reach the services: all, internal or internal-and-cloud-load-balancing. The operator's alone: a tenant could otherwise open internal services to the internet."},
		{Name: "name_prefix", Type: sdk.TypeString, Default: "as",
			Description: "Services and secrets are named <prefix>-<tenant>-<environment>-<deployment>-<service>-<hash>, shortened to fit."},
		{Name: "endpoint", Type: sdk.TypeString, Default: "",
			Description: "host:port of every Google API the plugin calls (Run, Secret Manager, Logging, Monitoring), instead of Google's; plaintext and without credentials only on a loopback address (tests)."},
		{Name: "operation_timeout", Type: sdk.TypeString, Default: "10m", TenantSettable: true,
			Description: "How long apply and destroy wait on one long-running operation (a revision becoming ready)."},
	},
}

var (
	projectID   = regexp.MustCompile(`^[a-z][-a-z0-9]{4,28}[a-z0-9]$`)
	regionName  = regexp.MustCompile(`^[a-z]+-[a-z]+[0-9]+$`)
	prefixName  = regexp.MustCompile(`^[a-z][a-z0-9]{0,7}$`)
	accountName = regexp.MustCompile(`^[a-z0-9][-a-z0-9.]*@[-a-z0-9.]+\.gserviceaccount\.com$`)
	ingresses   = map[string]runpb.IngressTraffic{
		"all":                               runpb.IngressTraffic_INGRESS_TRAFFIC_ALL,
		"internal":                          runpb.IngressTraffic_INGRESS_TRAFFIC_INTERNAL_ONLY,
		"internal-and-cloud-load-balancing": runpb.IngressTraffic_INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER,
	}
)

// parseConfig decodes and checks a configuration, offline: Configure and
// ValidateConfig both call it. It skips the values that are unknown.
func parseConfig(raw json.RawMessage, unknown sdk.Unknown) (config, error) {
	var c config
	if err := sdk.DecodeConfig(raw, &c); err != nil {
		return c, err
	}
	return c, c.check(unknown)
}

func (c *config) check(unknown sdk.Unknown) error {
	known := func(path string) bool { return !unknown.Has(path) }
	if known("project") && !projectID.MatchString(c.Project) {
		return sdk.InvalidConfig("project", "%q is not a project ID (6 to 30 lower-case letters, digits and '-', starting with a letter)", c.Project)
	}
	if known("region") && !regionName.MatchString(c.Region) {
		return sdk.InvalidConfig("region", "%q is not a region such as europe-west1", c.Region)
	}
	var ok bool
	if c.ingress, ok = ingresses[c.Ingress]; known("ingress") && !ok {
		return sdk.InvalidConfig("ingress", "%q must be all, internal or internal-and-cloud-load-balancing", c.Ingress)
	}
	if known("name_prefix") && !prefixName.MatchString(c.NamePrefix) {
		return sdk.InvalidConfig("name_prefix", "%q must be 1 to 8 lower-case letters and digits, starting with a letter", c.NamePrefix)
	}
	if known("service_account") && c.ServiceAccount != "" && !accountName.MatchString(c.ServiceAccount) {
		return sdk.InvalidConfig("service_account", "%q is not a service account email (name@project.iam.gserviceaccount.com)", c.ServiceAccount)
	}
	if err := c.checkTenantAccounts(known); err != nil {
		return err
	}
	var err error
	if c.operationTimeout, err = time.ParseDuration(c.OperationTimeout); known("operation_timeout") && (err != nil || c.operationTimeout <= 0) {
		return sdk.InvalidConfig("operation_timeout", "%q is not a positive duration such as \"10m\"", c.OperationTimeout)
	}
	if c.Endpoint != "" && known("endpoint") {
		host, port, err := net.SplitHostPort(c.Endpoint)
		if n, perr := strconv.Atoi(port); err != nil || host == "" || strings.ContainsAny(host, "/@") || perr != nil || n < 1 || n > 65535 {
			return sdk.InvalidConfig("endpoint", "%q is not host:port", c.Endpoint)
		}
		addr, err := netip.ParseAddr(host)
		c.plaintext = host == "localhost" || (err == nil && addr.IsLoopback())
	}
	// An unknown credential is set: the host resolves it later.
	if c.DefaultCreds && (c.Credentials != "" || !known("credentials") || c.plaintext) {
		return sdk.InvalidConfig("use_default_credentials", "application default credentials exclude credentials and a loopback test endpoint")
	}
	if c.DefaultCreds || !known("credentials") {
		return nil
	}
	switch {
	case c.Credentials == "" && !c.plaintext:
		return sdk.InvalidConfig("credentials", "a service account key or an external account configuration is required (credential(\"...\")), or use_default_credentials = true")
	case c.Credentials != "" && c.plaintext:
		return sdk.InvalidConfig("credentials", "a loopback endpoint is a test server, reached without credentials: leave credentials empty")
	case c.Credentials != "":
		_, err := credentialType(c.Credentials)
		return err
	}
	return nil
}

// maxTenantID bounds a key of tenant_service_accounts.
const maxTenantID = 63

// checkTenantAccounts checks tenant_service_accounts: it excludes
// service_account, its keys are non-empty and bounded, its values are
// service account emails.
func (c *config) checkTenantAccounts(known func(string) bool) error {
	if !known("tenant_service_accounts") {
		// Set, value unknown: it still excludes service_account.
		if c.ServiceAccount != "" || !known("service_account") {
			return sdk.InvalidConfig("tenant_service_accounts", "service_account and tenant_service_accounts exclude each other: set one")
		}
		return nil
	}
	if len(c.TenantAccounts) == 0 {
		return nil
	}
	if c.ServiceAccount != "" || !known("service_account") {
		return sdk.InvalidConfig("tenant_service_accounts", "service_account and tenant_service_accounts exclude each other: set one")
	}
	for _, tenant := range slices.Sorted(maps.Keys(c.TenantAccounts)) {
		path := "tenant_service_accounts." + tenant
		switch account := c.TenantAccounts[tenant]; {
		case tenant == "" || len(tenant) > maxTenantID || strings.TrimSpace(tenant) != tenant:
			return sdk.InvalidConfig("tenant_service_accounts", "tenant %q: a tenant ID is 1 to %d characters, without surrounding spaces", tenant, maxTenantID)
		case !known(path):
		case !accountName.MatchString(account):
			return sdk.InvalidConfig(path, "%q is not a service account email (name@project.iam.gserviceaccount.com)", account)
		}
	}
	return nil
}

// runtimeAccount is the service account the services of the deployment
// ref run as, and so the one granted its secrets and roles/run.invoker on
// its called services: its tenant's in tenant_service_accounts, else
// service_account ("" the project's default compute service account).
// A tenant tenant_service_accounts does not name is refused.
func (c *config) runtimeAccount(ref core.DeploymentRef) (string, error) {
	if len(c.TenantAccounts) == 0 {
		return c.ServiceAccount, nil
	}
	if account, ok := c.TenantAccounts[ref.Tenant]; ok {
		return account, nil
	}
	return "", sdk.InvalidRequest("tenant %q has no service account on this backend: the operator must add it to the backend's tenant_service_accounts", ref.Tenant)
}

// credentialType reads the type of a credential file and accepts two: a
// service account key, and an external account (workload identity
// federation) whose token comes from a URL or from AWS. Others, and an
// external account that reads a file or runs a program of the plugin's
// machine, are refused: the client libraries would do so.
func credentialType(content string) (option.CredentialsType, error) {
	var cred struct {
		Type             string `json:"type"`
		ClientEmail      string `json:"client_email"`
		PrivateKey       string `json:"private_key"`
		Audience         string `json:"audience"`
		CredentialSource *struct {
			File          string          `json:"file"`
			URL           string          `json:"url"`
			EnvironmentID string          `json:"environment_id"`
			Executable    json.RawMessage `json:"executable"`
			Certificate   json.RawMessage `json:"certificate"`
		} `json:"credential_source"`
	}
	if err := json.Unmarshal([]byte(content), &cred); err != nil {
		return "", sdk.InvalidConfig("credentials", "not a credential file (JSON): %v", syntaxOnly(err))
	}
	switch cred.Type {
	case "service_account":
		if cred.ClientEmail == "" || cred.PrivateKey == "" {
			return "", sdk.InvalidConfig("credentials", "the service account key lacks client_email or private_key")
		}
		if !privateKey(cred.PrivateKey) {
			return "", sdk.InvalidConfig("credentials", "the service account key's private_key is not a PEM PKCS #8 or PKCS #1 private key")
		}
		return option.ServiceAccount, nil
	case "external_account":
		src := cred.CredentialSource
		switch {
		case cred.Audience == "" || src == nil:
			return "", sdk.InvalidConfig("credentials", "the external account lacks audience or credential_source")
		case src.File != "" || len(src.Executable) > 0 || len(src.Certificate) > 0:
			return "", sdk.InvalidConfig("credentials", "the external account reads a file or runs a program of the plugin's machine (credential_source file, executable or certificate): only url and aws sources are accepted")
		case src.URL == "" && !strings.HasPrefix(src.EnvironmentID, "aws"):
			return "", sdk.InvalidConfig("credentials", "the external account's credential_source is neither a url nor aws")
		}
		return option.ExternalAccount, nil
	}
	return "", sdk.InvalidConfig("credentials", "a credential file of type %q: only service_account keys and external_account configurations are supported", cred.Type)
}

// privateKey says whether s is a PEM private key the client libraries can
// sign with.
func privateKey(s string) bool {
	block, _ := pem.Decode([]byte(s))
	if block == nil {
		return false
	}
	if _, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
		return true
	}
	_, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	return err == nil
}

// syntaxOnly keeps the position of a JSON error and drops what it quotes,
// which could be part of the key.
func syntaxOnly(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("syntax error at byte %d", se.Offset)
	}
	return "not a JSON object"
}

// clientOptions are the options of every Google API client.
func (c *config) clientOptions() []option.ClientOption {
	opts := []option.ClientOption{option.WithUserAgent("swarm-backend-gcp/" + version), option.WithTelemetryDisabled()}
	if c.Endpoint != "" {
		opts = append(opts, option.WithEndpoint(c.Endpoint))
	}
	if c.plaintext {
		return append(opts, option.WithoutAuthentication(),
			option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())))
	}
	if c.DefaultCreds {
		return opts // the client libraries find the application default credentials
	}
	typ, _ := credentialType(c.Credentials) // checked by parseConfig
	return append(opts, option.WithAuthCredentialsJSON(typ, []byte(c.Credentials)))
}

// ValidateConfig checks a configuration offline, with parseConfig: it
// reaches no API and reads no file.
func (b *Backend) ValidateConfig(_ context.Context, req *sdk.ValidateConfigRequest) (*sdk.ValidateConfigResponse, error) {
	_, err := parseConfig(req.Config, req.Unknown)
	return &sdk.ValidateConfigResponse{}, err
}

// Configure checks the configuration and makes the API clients. It calls
// no API: Cloud Run answers the first call of an operation.
func (b *Backend) Configure(ctx context.Context, req *sdk.ConfigureRequest) (*sdk.ConfigureResponse, error) {
	c, err := parseConfig(req.Config, nil)
	if err != nil {
		return nil, err
	}
	// A client fails to be made for its credentials: a key that does not
	// parse, application default credentials not found.
	credPath := "credentials"
	if c.DefaultCreds {
		credPath = "use_default_credentials"
	}
	runClient, err := run.NewServicesClient(ctx, c.clientOptions()...)
	if err != nil {
		return nil, sdk.InvalidConfig(credPath, "create the Cloud Run client: %v", err)
	}
	secretClient, err := secretmanager.NewClient(ctx, c.clientOptions()...)
	if err != nil {
		runClient.Close()
		return nil, sdk.InvalidConfig(credPath, "create the Secret Manager client: %v", err)
	}
	logClient, err := logging.NewClient(ctx, c.clientOptions()...)
	if err != nil {
		runClient.Close()
		secretClient.Close()
		return nil, sdk.InvalidConfig(credPath, "create the Cloud Logging client: %v", err)
	}
	metricClient, err := monitoring.NewMetricClient(ctx, c.clientOptions()...)
	if err != nil {
		runClient.Close()
		secretClient.Close()
		logClient.Close()
		return nil, sdk.InvalidConfig(credPath, "create the Cloud Monitoring client: %v", err)
	}
	b.cfg, b.run, b.secrets, b.logging, b.monitoring = c, runClient, secretClient, logClient, metricClient
	return &sdk.ConfigureResponse{}, nil
}

// parent is the project and region every service lives in.
func (c *config) parent() string { return "projects/" + c.Project + "/locations/" + c.Region }
