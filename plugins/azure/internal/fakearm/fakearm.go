// Package fakearm is a test double of the parts of Azure the azure backend
// talks to: a loopback HTTPS server that speaks Azure Resource Manager's
// REST API for Microsoft.App container apps (the api-version the SDK sends),
// managed environments, revisions and replicas, and an Entra ID shaped
// token endpoint for the client secret credential.
//
// The real SDK clients (azidentity, armappcontainers) talk to it unchanged:
// the plugin is pointed at it through its endpoint and authority_host
// settings and trusts its certificate through SSL_CERT_FILE. It keeps
// state, answers create, update, delete, start and stop as ARM does, with
// long-running operations (Azure-AsyncOperation and Location headers) that
// are never done on the first poll, creates a revision when a template
// changes, and starts replicas only once provisioning succeeded. Faults can
// be injected: an image marked missing fails its provisioning with Azure's
// message, and Inject answers the next matching request with an error
// status such as 429 with Retry-After. Each replica container has a log
// stream endpoint and an exec endpoint (exec.go: a WebSocket with the Azure
// CLI's framing, for the app's current auth token, running a few simulated
// commands and never a host program).
package fakearm

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/appcontainers/armappcontainers/v3"
)

// Options configure a Server.
type Options struct {
	// TenantID, ClientID and ClientSecret are the one service principal
	// the token endpoint accepts.
	TenantID, ClientID, ClientSecret string
	// ClientCertificate, when set, is a certificate (RSA) the token
	// endpoint accepts client assertions signed for, as Entra ID does for
	// a certificate uploaded to the application.
	ClientCertificate *x509.Certificate
	// FederatedToken, when set, is the one token of a trusted identity
	// provider the token endpoint accepts as a client assertion (jwt-bearer),
	// as Entra ID does for an application with a federated credential
	// (workload identity).
	FederatedToken string
	// IdentityHeader, when set, makes the server a managed identity
	// endpoint too, as App Service and Container Apps hosts have one:
	// GET /msi/token with the header X-IDENTITY-HEADER (the plugin
	// finds it through IDENTITY_ENDPOINT and IDENTITY_HEADER). It gives
	// the system-assigned identity's tokens, or the user-assigned one's
	// whose client ID is ClientID.
	IdentityHeader string
	// LRODelay is how long a long-running operation stays in progress
	// (200ms when zero). Whatever it is, its first poll says InProgress.
	LRODelay time.Duration
	// PageSize is how many apps a list page holds (2 when zero).
	PageSize int
}

// Server is the fake. Its zero value is not usable: call Start.
type Server struct {
	opts   Options
	srv    *httptest.Server
	caFile string

	mu      sync.Mutex
	tokens  map[string]bool
	envs    map[string]*environment // by lower-case resource ID
	apps    map[string]*app         // by lower-case resource ID
	ops     map[string]*operation
	missing map[string]bool // images whose provisioning fails
	faults  []*Fault
	expired bool
	calls   []string // "METHOD path" of every ARM request
}

type environment struct {
	id, name, location string
	state              armappcontainers.EnvironmentProvisioningState
	model              armappcontainers.ManagedEnvironment // as PUT, shared key taken out
	sharedKey          string
}

// app is one container app with what GET does not show: secret values,
// revisions and their replicas.
type app struct {
	model     armappcontainers.ContainerApp
	secrets   map[string]string
	revisions []*revision
	stopped   bool
	failed    string // provisioning error of the last operation
	key       string // a random name of the app in log stream endpoints
	// token is the app's auth token for its log stream and exec
	// endpoints, valid until tokenExpires.
	token        string
	tokenExpires time.Time
}

type revision struct {
	name     string
	created  time.Time
	template json.RawMessage // the template without scale
	replicas []*replica
}

type replica struct {
	name     string
	created  time.Time
	restarts int32
}

type operation struct {
	id      string
	appID   string
	doneAt  time.Time
	polled  int
	done    bool
	fail    string // error message when the operation fails
	code    string
	finish  func() // applies the operation's effect, under mu
	applied bool
}

// Fault answers one request whose method and path match with Status, once
// (or Times times).
type Fault struct {
	Method string
	// PathContains selects requests whose path contains it.
	PathContains string
	Status       int
	RetryAfter   time.Duration
	Code         string
	Message      string
	Times        int
	hits         int
}

// Start starts the fake on a loopback port. Close it when done.
func Start(opts Options) (*Server, error) {
	if opts.LRODelay <= 0 {
		opts.LRODelay = 200 * time.Millisecond
	}
	if opts.PageSize <= 0 {
		opts.PageSize = 2
	}
	s := &Server{opts: opts, tokens: map[string]bool{}, envs: map[string]*environment{}, apps: map[string]*app{},
		ops: map[string]*operation{}, missing: map[string]bool{}}
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.srv.StartTLS()
	dir, err := os.MkdirTemp("", "fakearm-")
	if err != nil {
		s.srv.Close()
		return nil, fmt.Errorf("create CA directory: %w", err)
	}
	s.caFile = filepath.Join(dir, "ca.pem")
	block := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.srv.Certificate().Raw})
	if err := os.WriteFile(s.caFile, block, 0o600); err != nil {
		s.srv.Close()
		return nil, fmt.Errorf("write CA file: %w", err)
	}
	return s, nil
}

// Close stops the server and removes its CA file.
func (s *Server) Close() {
	s.srv.Close()
	_ = os.RemoveAll(filepath.Dir(s.caFile))
}

// URL is the base URL of both the ARM endpoint and the authority host.
func (s *Server) URL() string { return s.srv.URL }

// CAFile is a PEM file with the certificate the server presents, for
// SSL_CERT_FILE.
func (s *Server) CAFile() string { return s.caFile }

// AddEnvironment creates a managed environment and returns its ID.
func (s *Server) AddEnvironment(subscription, resourceGroup, name, location string) string {
	id := fmt.Sprintf("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.App/managedEnvironments/%s", subscription, resourceGroup, name)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.envs[strings.ToLower(id)] = &environment{id: id, name: name, location: location, state: armappcontainers.EnvironmentProvisioningStateSucceeded}
	return id
}

// AddEnvironmentCreating adds a managed environment whose creation is
// under way, as a Configure killed while creating it leaves one: it is
// InitializationInProgress for LRODelay, then Succeeded.
func (s *Server) AddEnvironmentCreating(subscription, resourceGroup, name, location string) {
	id := fmt.Sprintf("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.App/managedEnvironments/%s", subscription, resourceGroup, name)
	s.mu.Lock()
	defer s.mu.Unlock()
	e := &environment{id: id, name: name, location: location, state: armappcontainers.EnvironmentProvisioningStateInitializationInProgress,
		model: armappcontainers.ManagedEnvironment{Properties: &armappcontainers.ManagedEnvironmentProperties{}}}
	s.envs[strings.ToLower(id)] = e
	op := s.newOperation(strings.ToLower(id), "", "")
	op.finish = func() { e.state = armappcontainers.EnvironmentProvisioningStateSucceeded }
}

// StoredEnvironment is what the fake keeps of a managed environment
// created through ARM, the Log Analytics shared key included.
type StoredEnvironment struct {
	Model     armappcontainers.ManagedEnvironment
	SharedKey string
}

// Environments returns the managed environments created through ARM (not
// those of AddEnvironment), by name, once their creation is done.
func (s *Server) Environments() map[string]StoredEnvironment {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settle()
	out := map[string]StoredEnvironment{}
	for _, e := range s.envs {
		if e.model.Properties == nil || e.state != armappcontainers.EnvironmentProvisioningStateSucceeded {
			continue
		}
		raw, _ := json.Marshal(e.model)
		var m armappcontainers.ManagedEnvironment
		_ = json.Unmarshal(raw, &m)
		out[e.name] = StoredEnvironment{Model: m, SharedKey: e.sharedKey}
	}
	return out
}

// MarkImageMissing makes every revision of image fail its provisioning.
func (s *Server) MarkImageMissing(image string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.missing[image] = true
}

// ExpireClientSecret makes the token endpoint refuse the client secret as
// Entra ID refuses an expired one; tokens already issued stay valid.
func (s *Server) ExpireClientSecret() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expired = true
}

// DeleteEnvironment deletes a managed environment behind the plugin's
// back; its apps stay, as the fake does not cascade.
func (s *Server) DeleteEnvironment(subscription, resourceGroup, name string) {
	id := fmt.Sprintf("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.App/managedEnvironments/%s", subscription, resourceGroup, name)
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.envs, strings.ToLower(id))
}

// DeleteApp deletes an app behind the plugin's back.
func (s *Server) DeleteApp(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, a := range s.apps {
		if a.model.Name != nil && *a.model.Name == name {
			delete(s.apps, k)
		}
	}
}

// Inject adds a fault.
func (s *Server) Inject(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f.Times <= 0 {
		f.Times = 1
	}
	s.faults = append(s.faults, &f)
}

// Calls returns "METHOD path" of every ARM request so far whose path
// contains sub.
func (s *Server) Calls(sub string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, c := range s.calls {
		if strings.Contains(c, sub) {
			out = append(out, c)
		}
	}
	return out
}

// StoredApp is what the fake keeps of a container app, secret values
// included, for tests to inspect.
type StoredApp struct {
	Model     armappcontainers.ContainerApp
	Secrets   map[string]string
	Revisions []string
}

// Apps returns every stored app by name.
func (s *Server) Apps() map[string]StoredApp {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]StoredApp{}
	for _, a := range s.apps {
		raw, _ := json.Marshal(a.model)
		var m armappcontainers.ContainerApp
		_ = json.Unmarshal(raw, &m)
		st := StoredApp{Model: m, Secrets: map[string]string{}}
		for k, v := range a.secrets {
			st.Secrets[k] = v
		}
		for _, r := range a.revisions {
			st.Revisions = append(st.Revisions, r.name)
		}
		out[*a.model.Name] = st
	}
	return out
}

// The ARM paths the fake serves.
var (
	reEnv      = regexp.MustCompile(`(?i)^/subscriptions/([^/]+)/resourceGroups/([^/]+)/providers/Microsoft\.App/managedEnvironments/([^/]+)$`)
	reApps     = regexp.MustCompile(`(?i)^/subscriptions/([^/]+)/resourceGroups/([^/]+)/providers/Microsoft\.App/containerApps$`)
	reApp      = regexp.MustCompile(`(?i)^/subscriptions/([^/]+)/resourceGroups/([^/]+)/providers/Microsoft\.App/containerApps/([^/]+)$`)
	reAppOp    = regexp.MustCompile(`(?i)^(/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.App/containerApps/[^/]+)/(start|stop)$`)
	reSecrets  = regexp.MustCompile(`(?i)^(/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.App/containerApps/[^/]+)/listSecrets$`)
	reAuthTok  = regexp.MustCompile(`(?i)^(/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.App/containerApps/[^/]+)/getAuthtoken$`)
	reLogs     = regexp.MustCompile(`^/logstream/([a-z0-9]+)/([^/]+)/([^/]+)/([^/]+)$`)
	reMetrics  = regexp.MustCompile(`(?i)^(/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.App/containerApps/[^/]+)/providers/Microsoft\.Insights/metrics$`)
	reReplicas = regexp.MustCompile(`(?i)^(/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.App/containerApps/[^/]+)/revisions/([^/]+)/replicas$`)
	reRestart  = regexp.MustCompile(`(?i)^(/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.App/containerApps/[^/]+)/revisions/([^/]+)/restart$`)
	reOpStatus = regexp.MustCompile(`(?i)^/subscriptions/[^/]+/providers/Microsoft\.App/locations/[^/]+/(?:containerapp|managedEnvironment)OperationStatuses/([^/]+)$`)
	reOpResult = regexp.MustCompile(`(?i)^/subscriptions/[^/]+/providers/Microsoft\.App/locations/[^/]+/containerappOperationResults/([^/]+)$`)
	reOIDC     = regexp.MustCompile(`^/([^/]+)/v2\.0/\.well-known/openid-configuration$`)
	reToken    = regexp.MustCompile(`^/([^/]+)/oauth2/v2\.0/token$`)
	reAppName  = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)
	reSecret   = regexp.MustCompile(`^[a-z0-9]([a-z0-9-.]*[a-z0-9])?$`)
)

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	if m := reOIDC.FindStringSubmatch(p); m != nil && r.Method == http.MethodGet {
		s.openIDConfiguration(w, m[1])
		return
	}
	if m := reToken.FindStringSubmatch(p); m != nil && r.Method == http.MethodPost {
		s.token(w, r, m[1])
		return
	}
	if p == "/msi/token" && r.Method == http.MethodGet {
		s.managedIdentityToken(w, r)
		return
	}
	if p == "/fakearm/apps" && r.Method == http.MethodGet {
		// Read-only inspection for tests in other processes: the names
		// of the stored apps.
		names := slices.Sorted(maps.Keys(s.Apps()))
		writeJSON(w, http.StatusOK, map[string]any{"apps": append([]string{}, names...)})
		return
	}
	if p == "/common/discovery/instance" {
		writeJSON(w, http.StatusOK, map[string]any{"tenant_discovery_endpoint": s.URL() + "/common/v2.0/.well-known/openid-configuration",
			"metadata": []any{map[string]any{"preferred_network": "localhost", "preferred_cache": "localhost", "aliases": []string{"localhost"}}}})
		return
	}
	if m := reLogs.FindStringSubmatch(p); m != nil && r.Method == http.MethodGet {
		s.logStream(w, r, m)
		return
	}
	if m := reExec.FindStringSubmatch(p); m != nil && r.Method == http.MethodGet {
		s.exec(w, r, m)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, r.Method+" "+p)
	if !s.authorized(r) {
		armError(w, http.StatusUnauthorized, "InvalidAuthenticationToken", "The access token is invalid.")
		return
	}
	if r.URL.Query().Get("api-version") == "" {
		armError(w, http.StatusBadRequest, "MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all requests.")
		return
	}
	for _, f := range s.faults {
		if f.hits < f.Times && (f.Method == "" || f.Method == r.Method) && strings.Contains(p, f.PathContains) {
			f.hits++
			if f.RetryAfter > 0 {
				w.Header().Set("Retry-After", strconv.Itoa(int(f.RetryAfter.Seconds())))
			}
			armError(w, f.Status, f.Code, f.Message)
			return
		}
	}
	switch m := matcher(p); {
	case m(reEnv) != nil && r.Method == http.MethodGet:
		s.getEnvironment(w, p)
	case m(reEnv) != nil && r.Method == http.MethodPut:
		s.putEnvironment(w, r, m(reEnv))
	case m(reApps) != nil && r.Method == http.MethodGet:
		s.listApps(w, r, p)
	case m(reApp) != nil && r.Method == http.MethodGet:
		s.getApp(w, p)
	case m(reApp) != nil && r.Method == http.MethodPut:
		s.putApp(w, r, m(reApp))
	case m(reApp) != nil && r.Method == http.MethodDelete:
		s.deleteApp(w, p)
	case m(reAppOp) != nil && r.Method == http.MethodPost:
		s.startStop(w, m(reAppOp))
	case m(reMetrics) != nil && r.Method == http.MethodGet:
		s.metrics(w, r, m(reMetrics))
	case m(reAuthTok) != nil && r.Method == http.MethodPost:
		s.authToken(w, m(reAuthTok))
	case m(reSecrets) != nil && r.Method == http.MethodPost:
		s.listSecrets(w, m(reSecrets))
	case m(reReplicas) != nil && r.Method == http.MethodGet:
		s.listReplicas(w, m(reReplicas))
	case m(reRestart) != nil && r.Method == http.MethodPost:
		s.restartRevision(w, m(reRestart))
	case m(reOpStatus) != nil && r.Method == http.MethodGet:
		s.operationStatus(w, m(reOpStatus)[1])
	case m(reOpResult) != nil && r.Method == http.MethodGet:
		s.operationResult(w, m(reOpResult)[1])
	default:
		armError(w, http.StatusNotFound, "NotFound", fmt.Sprintf("No route for %s %s.", r.Method, p))
	}
}

func matcher(p string) func(*regexp.Regexp) []string {
	return func(re *regexp.Regexp) []string { return re.FindStringSubmatch(p) }
}

func (s *Server) openIDConfiguration(w http.ResponseWriter, tenant string) {
	base := s.URL() + "/" + tenant
	writeJSON(w, http.StatusOK, map[string]any{
		"token_endpoint":         base + "/oauth2/v2.0/token",
		"authorization_endpoint": base + "/oauth2/v2.0/authorize",
		"issuer":                 base + "/v2.0",
	})
}

func (s *Server) token(w http.ResponseWriter, r *http.Request, tenant string) {
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid_request"})
		return
	}
	secretOK := r.PostForm.Get("client_secret") != "" && r.PostForm.Get("client_secret") == s.opts.ClientSecret
	assertion := r.PostForm.Get("client_assertion")
	federated := s.opts.FederatedToken != "" && assertion == s.opts.FederatedToken
	if r.PostForm.Get("client_assertion_type") == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" && federated {
		secretOK = true
	} else if r.PostForm.Get("client_assertion_type") == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" && s.opts.FederatedToken != "" && s.opts.ClientCertificate == nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid_request",
			"error_description": "AADSTS70021: No matching federated identity record found for presented assertion.", "error_codes": []int{70021}})
		return
	} else if r.PostForm.Get("client_assertion_type") == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
		if err := s.checkAssertion(r.PostForm.Get("client_assertion"), tenant); err != nil {
			writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "invalid_client",
				"error_description": "AADSTS700027: Client assertion failed signature validation. " + err.Error(), "error_codes": []int{700027}})
			return
		}
		secretOK = true
	}
	if tenant != s.opts.TenantID || r.PostForm.Get("client_id") != s.opts.ClientID || !secretOK || r.PostForm.Get("grant_type") != "client_credentials" {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "invalid_client",
			"error_description": "AADSTS7000215: Invalid client secret provided.", "error_codes": []int{7000215}})
		return
	}
	s.mu.Lock()
	if s.expired {
		s.mu.Unlock()
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "invalid_client",
			"error_description": "AADSTS7000222: The provided client secret keys for app '" + s.opts.ClientID + "' are expired.", "error_codes": []int{7000222}})
		return
	}
	tok := "fake-" + rand.Text()
	s.tokens[tok] = true
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"token_type": "Bearer", "expires_in": 3600, "ext_expires_in": 3600, "access_token": tok})
}

// IdentityEndpoint is the managed identity endpoint, for IDENTITY_ENDPOINT.
func (s *Server) IdentityEndpoint() string { return s.URL() + "/msi/token" }

func (s *Server) managedIdentityToken(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	switch {
	case s.opts.IdentityHeader == "" || r.Header.Get("X-IDENTITY-HEADER") != s.opts.IdentityHeader:
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "invalid_request", "error_description": "X-IDENTITY-HEADER is wrong"})
		return
	case q.Get("api-version") != "2019-08-01" || q.Get("resource") == "":
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid_request", "error_description": "api-version 2019-08-01 and resource are required"})
		return
	case q.Get("client_id") != "" && q.Get("client_id") != s.opts.ClientID:
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid_request", "error_description": "no user-assigned identity with client ID " + q.Get("client_id")})
		return
	}
	tok := "mi-" + rand.Text()
	s.mu.Lock()
	s.tokens[tok] = true
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"access_token": tok, "token_type": "Bearer", "resource": q.Get("resource"),
		"expires_on": strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)})
}

// checkAssertion verifies a client assertion as Entra ID does: a JWT
// signed (PS256 or RS256) by the registered certificate's key, naming it
// by thumbprint, issued by and for the client, for this token endpoint,
// not expired.
func (s *Server) checkAssertion(assertion, tenant string) error {
	cert := s.opts.ClientCertificate
	if cert == nil {
		return errors.New("no certificate is registered")
	}
	parts := strings.Split(assertion, ".")
	if len(parts) != 3 {
		return errors.New("not a JWT")
	}
	var header struct {
		Alg     string `json:"alg"`
		X5tS256 string `json:"x5t#S256"`
		X5t     string `json:"x5t"`
	}
	var claims struct {
		Aud string `json:"aud"`
		Iss string `json:"iss"`
		Sub string `json:"sub"`
		Exp int64  `json:"exp"`
	}
	for i, v := range []any{&header, &claims} {
		raw, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil || json.Unmarshal(raw, v) != nil {
			return errors.New("undecodable JWT")
		}
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return errors.New("undecodable signature")
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return errors.New("the registered certificate is not RSA")
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	switch header.Alg {
	case "PS256":
		thumb := sha256.Sum256(cert.Raw)
		if header.X5tS256 != base64.StdEncoding.EncodeToString(thumb[:]) {
			return errors.New("unknown certificate thumbprint")
		}
		err = rsa.VerifyPSS(pub, crypto.SHA256, sum[:], sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto})
	case "RS256":
		err = rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig)
	default:
		return fmt.Errorf("algorithm %q", header.Alg)
	}
	switch {
	case err != nil:
		return errors.New("bad signature")
	case claims.Iss != s.opts.ClientID || claims.Sub != s.opts.ClientID:
		return errors.New("issuer or subject is not the client")
	case claims.Aud != s.URL()+"/"+tenant+"/oauth2/v2.0/token":
		return fmt.Errorf("audience %q", claims.Aud)
	case time.Now().Unix() > claims.Exp:
		return errors.New("expired")
	}
	return nil
}

func (s *Server) authorized(r *http.Request) bool {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && s.tokens[tok]
}

func (s *Server) getEnvironment(w http.ResponseWriter, p string) {
	s.settle()
	e, ok := s.envs[strings.ToLower(p)]
	if !ok {
		armError(w, http.StatusNotFound, "ResourceNotFound", "The Resource 'Microsoft.App/managedEnvironments' under the resource group was not found.")
		return
	}
	writeJSON(w, http.StatusOK, e.view())
}

// view is the environment as GET shows it: no shared key.
func (e *environment) view() armappcontainers.ManagedEnvironment {
	m := e.model
	props := armappcontainers.ManagedEnvironmentProperties{}
	if m.Properties != nil {
		props = *m.Properties
	}
	if props.AppLogsConfiguration != nil && props.AppLogsConfiguration.LogAnalyticsConfiguration != nil {
		logs := *props.AppLogsConfiguration
		la := *logs.LogAnalyticsConfiguration
		la.SharedKey = nil
		logs.LogAnalyticsConfiguration = &la
		props.AppLogsConfiguration = &logs
	}
	props.ProvisioningState = to.Ptr(e.state)
	props.DefaultDomain = to.Ptr("fake.azurecontainerapps.io")
	m.ID, m.Name, m.Location, m.Type = &e.id, &e.name, &e.location, to.Ptr("Microsoft.App/managedEnvironments")
	m.Properties = &props
	return m
}

// putEnvironment creates a managed environment as a long-running
// operation: InitializationInProgress until it is done. The fake does not
// update an environment that exists: the plugin never sends one again.
func (s *Server) putEnvironment(w http.ResponseWriter, r *http.Request, m []string) {
	s.settle()
	sub, rg, name := m[1], m[2], m[3]
	id := fmt.Sprintf("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.App/managedEnvironments/%s", sub, rg, name)
	key := strings.ToLower(id)
	var in armappcontainers.ManagedEnvironment
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		armError(w, http.StatusBadRequest, "InvalidRequestContent", "The request content was invalid and could not be deserialized.")
		return
	}
	var sharedKey string
	switch {
	case in.Location == nil || *in.Location == "":
		armError(w, http.StatusBadRequest, "LocationRequired", "The location property is required for this definition.")
		return
	case s.busy(key):
		armError(w, http.StatusConflict, "ManagedEnvironmentOperationInProgress",
			fmt.Sprintf("Cannot modify managed environment '%s' because there is a pending operation on the resource.", name))
		return
	case in.Properties != nil && in.Properties.AppLogsConfiguration != nil && deref(in.Properties.AppLogsConfiguration.Destination, "") == "log-analytics":
		la := in.Properties.AppLogsConfiguration.LogAnalyticsConfiguration
		if la == nil || deref(la.CustomerID, "") == "" || deref(la.SharedKey, "") == "" {
			armError(w, http.StatusBadRequest, "ManagedEnvironmentInvalidLogAnalyticsConfiguration",
				"The destination 'log-analytics' needs logAnalyticsConfiguration with customerId and sharedKey.")
			return
		}
		sharedKey = *la.SharedKey
	}
	if e, ok := s.envs[key]; ok && e.state == armappcontainers.EnvironmentProvisioningStateSucceeded {
		armError(w, http.StatusConflict, "ManagedEnvironmentExists", fmt.Sprintf("The managed environment '%s' exists; the fake does not update one.", name))
		return
	}
	e := &environment{id: id, name: name, location: *in.Location, state: armappcontainers.EnvironmentProvisioningStateInitializationInProgress,
		model: in, sharedKey: sharedKey}
	s.envs[key] = e
	op := s.newOperation(key, "", "")
	op.finish = func() { e.state = armappcontainers.EnvironmentProvisioningStateSucceeded }
	w.Header().Set("Azure-AsyncOperation", s.opURL(sub, "managedEnvironmentOperationStatuses", op.id))
	writeJSON(w, http.StatusCreated, e.view())
}

// settle completes the operations whose time has come.
func (s *Server) settle() {
	now := time.Now()
	for _, op := range s.ops {
		if !op.applied && !now.Before(op.doneAt) {
			op.applied, op.done = true, true
			if op.finish != nil {
				op.finish()
			}
		}
	}
}

func (s *Server) getApp(w http.ResponseWriter, p string) {
	s.settle()
	a, ok := s.apps[strings.ToLower(p)]
	if !ok {
		armError(w, http.StatusNotFound, "ResourceNotFound", fmt.Sprintf("The Resource 'Microsoft.App/containerApps/%s' was not found.", lastSegment(p)))
		return
	}
	writeJSON(w, http.StatusOK, a.model)
}

func (s *Server) listApps(w http.ResponseWriter, r *http.Request, p string) {
	s.settle()
	prefix := strings.ToLower(p) + "/"
	var ids []string
	for id := range s.apps {
		if strings.HasPrefix(id, prefix) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	// The skip token is the last ID of the previous page, not a count:
	// apps created or deleted between two pages (by tests running in
	// parallel) move no app that exists throughout off the list, as with
	// ARM's continuation tokens.
	start := 0
	if after := r.URL.Query().Get("$skiptoken"); after != "" {
		start, _ = slices.BinarySearch(ids, after)
		if start < len(ids) && ids[start] == after {
			start++
		}
	}
	end := min(start+s.opts.PageSize, len(ids))
	page := armappcontainers.ContainerAppCollection{Value: []*armappcontainers.ContainerApp{}}
	for _, id := range ids[start:end] {
		page.Value = append(page.Value, &s.apps[id].model)
	}
	if end < len(ids) {
		q := r.URL.Query()
		q.Set("$skiptoken", ids[end-1])
		page.NextLink = to.Ptr(s.URL() + p + "?" + q.Encode())
	}
	writeJSON(w, http.StatusOK, page)
}

// busy says whether an operation on the app is still running.
func (s *Server) busy(appID string) bool {
	for _, op := range s.ops {
		if op.appID == appID && !op.done {
			return true
		}
	}
	return false
}

func (s *Server) putApp(w http.ResponseWriter, r *http.Request, m []string) {
	s.settle()
	sub, rg, name := m[1], m[2], m[3]
	id := fmt.Sprintf("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.App/containerApps/%s", sub, rg, name)
	key := strings.ToLower(id)
	body, err := io.ReadAll(r.Body)
	if err != nil {
		armError(w, http.StatusBadRequest, "InvalidRequestContent", "The request content could not be read.")
		return
	}
	var in armappcontainers.ContainerApp
	if err := json.Unmarshal(body, &in); err != nil {
		armError(w, http.StatusBadRequest, "InvalidRequestContent", "The request content was invalid and could not be deserialized.")
		return
	}
	if msg := s.checkApp(name, &in); msg != "" {
		armError(w, http.StatusBadRequest, "ContainerAppInvalidRequest", msg)
		return
	}
	if s.busy(key) {
		armError(w, http.StatusConflict, "ContainerAppOperationInProgress",
			fmt.Sprintf("Cannot modify a container app '%s' because there is a pending operation on the resource.", name))
		return
	}
	a, exists := s.apps[key]
	if !exists {
		a = &app{secrets: map[string]string{}, key: strings.ToLower(rand.Text())}
		s.apps[key] = a
	}
	newSecrets := map[string]string{}
	for _, sec := range in.Properties.Configuration.Secrets {
		v := ""
		if sec.Value != nil {
			v = *sec.Value
		} else {
			v = a.secrets[*sec.Name]
		}
		newSecrets[*sec.Name] = v
	}
	// What GET shows: the request, with secret values taken out and the
	// read-only properties set.
	model := in
	model.ID, model.Name, model.Type = &id, &name, to.Ptr("Microsoft.App/containerApps")
	props := *in.Properties
	conf := *props.Configuration
	conf.Secrets = nil
	for _, sec := range in.Properties.Configuration.Secrets {
		conf.Secrets = append(conf.Secrets, &armappcontainers.Secret{Name: sec.Name})
	}
	props.Configuration = &conf
	props.ProvisioningState = to.Ptr(armappcontainers.ContainerAppProvisioningStateInProgress)
	props.RunningStatus = to.Ptr(armappcontainers.ContainerAppRunningStatusProgressing)
	if exists {
		props.LatestRevisionName, props.LatestReadyRevisionName = a.model.Properties.LatestRevisionName, a.model.Properties.LatestReadyRevisionName
	}
	if conf.Ingress != nil {
		fqdn := name + ".fake.azurecontainerapps.io"
		if !deref(conf.Ingress.External, false) {
			fqdn = name + ".internal.fake.azurecontainerapps.io"
		}
		conf.Ingress.Fqdn = &fqdn
	}
	model.Properties = &props
	model.SystemData = nil
	a.model = model

	template := templateKey(props.Template)
	var rev *revision
	if n := len(a.revisions); n > 0 && string(a.revisions[n-1].template) == string(template) {
		rev = a.revisions[n-1]
	} else {
		rev = &revision{name: name + "--" + strings.ToLower(rand.Text()[:7]), created: time.Now().UTC(), template: template}
	}
	props.LatestRevisionName = &rev.name
	failure := ""
	for _, c := range props.Template.Containers {
		if s.missing[deref(c.Image, "")] {
			failure = fmt.Sprintf("Failed to provision revision for container app '%s'. Error details: The following field(s) are either invalid or missing. Field 'template.containers.%s.image' is invalid with details: 'Invalid value: \"%s\": GET https:?: MANIFEST_UNKNOWN: manifest tagged by \"%s\" is not found';",
				name, deref(c.Name, ""), deref(c.Image, ""), deref(c.Image, ""))
		}
	}
	replicas := int(deref(props.Template.Scale.MinReplicas, 0))
	op := s.newOperation(key, failure, "ContainerAppProvisioningFailed")
	op.finish = func() {
		a.secrets = newSecrets
		if failure != "" {
			a.model.Properties.ProvisioningState = to.Ptr(armappcontainers.ContainerAppProvisioningStateFailed)
			a.model.Properties.RunningStatus = to.Ptr(armappcontainers.ContainerAppRunningStatusStopped)
			a.failed = failure
			return
		}
		if len(a.revisions) == 0 || a.revisions[len(a.revisions)-1] != rev {
			a.revisions = append(a.revisions, rev)
		}
		if !a.stopped {
			rev.scaleTo(replicas)
		}
		a.model.Properties.ProvisioningState = to.Ptr(armappcontainers.ContainerAppProvisioningStateSucceeded)
		a.model.Properties.RunningStatus = to.Ptr(armappcontainers.ContainerAppRunningStatusRunning)
		if a.stopped {
			a.model.Properties.RunningStatus = to.Ptr(armappcontainers.ContainerAppRunningStatusStopped)
		}
		a.model.Properties.LatestReadyRevisionName = &rev.name
		a.failed = ""
	}
	w.Header().Set("Azure-AsyncOperation", s.opURL(sub, "containerappOperationStatuses", op.id))
	status := http.StatusCreated
	if exists {
		status = http.StatusOK
	}
	writeJSON(w, status, a.model)
}

// checkApp returns what ARM would refuse in a create-or-update, or "".
func (s *Server) checkApp(name string, in *armappcontainers.ContainerApp) string {
	switch {
	case len(name) < 2 || len(name) > 32 || !reAppName.MatchString(name):
		return fmt.Sprintf("Invalid ContainerApp name '%s'. A name must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character and cannot have '--'. The length must not be more than 32 characters.", name)
	case in.Location == nil || *in.Location == "":
		return "The 'location' property is required."
	case in.Properties == nil || in.Properties.Template == nil || len(in.Properties.Template.Containers) == 0:
		return "The template must have at least one container."
	case in.Properties.Configuration == nil:
		return "The configuration is required."
	}
	envID := deref(in.Properties.ManagedEnvironmentID, deref(in.Properties.EnvironmentID, ""))
	if e, ok := s.envs[strings.ToLower(envID)]; !ok {
		return fmt.Sprintf("ManagedEnvironment '%s' was not found.", envID)
	} else if e.state != armappcontainers.EnvironmentProvisioningStateSucceeded {
		return fmt.Sprintf("ManagedEnvironment '%s' is not ready: its provisioning state is %s.", envID, e.state)
	}
	secrets := map[string]bool{}
	for _, sec := range in.Properties.Configuration.Secrets {
		if sec.Name == nil || !reSecret.MatchString(*sec.Name) || len(*sec.Name) > 253 {
			return fmt.Sprintf("Invalid secret name '%s'.", deref(sec.Name, ""))
		}
		secrets[*sec.Name] = true
	}
	if sc := in.Properties.Template.Scale; sc == nil || sc.MinReplicas == nil || sc.MaxReplicas == nil ||
		*sc.MinReplicas < 0 || *sc.MaxReplicas < 1 || *sc.MinReplicas > *sc.MaxReplicas || *sc.MaxReplicas > 1000 {
		return "Invalid scale: minReplicas must be between 0 and maxReplicas, maxReplicas between 1 and 1000."
	}
	var cpu float64
	var mem float64
	for _, c := range in.Properties.Template.Containers {
		for _, e := range c.Env {
			if e.SecretRef != nil && !secrets[*e.SecretRef] {
				return fmt.Sprintf("Container '%s' references secret '%s', which is not defined.", deref(c.Name, ""), *e.SecretRef)
			}
		}
		if c.Resources == nil || c.Resources.CPU == nil || c.Resources.Memory == nil {
			return "Container resources (cpu and memory) are required."
		}
		gi, err := strconv.ParseFloat(strings.TrimSuffix(*c.Resources.Memory, "Gi"), 64)
		if err != nil || !strings.HasSuffix(*c.Resources.Memory, "Gi") {
			return fmt.Sprintf("Invalid memory '%s'.", *c.Resources.Memory)
		}
		cpu, mem = cpu+*c.Resources.CPU, mem+gi
	}
	if cpu < 0.25 || cpu > 4 || mem != 2*cpu || int(cpu*100)%25 != 0 {
		return fmt.Sprintf("The total requested CPU and memory resources for this application (CPU: %v, memory: %vGi) is invalid. Total CPU and memory for all containers defined in a Container App must add up to one of the following CPU - Memory combinations: [cpu: 0.25, memory: 0.5Gi]; [cpu: 0.5, memory: 1.0Gi]; [cpu: 0.75, memory: 1.5Gi]; [cpu: 1.0, memory: 2.0Gi]; [cpu: 1.25, memory: 2.5Gi]; [cpu: 1.5, memory: 3.0Gi]; [cpu: 1.75, memory: 3.5Gi]; [cpu: 2.0, memory: 4.0Gi]; [cpu: 2.25, memory: 4.5Gi]; [cpu: 2.5, memory: 5.0Gi]; [cpu: 2.75, memory: 5.5Gi]; [cpu: 3, memory: 6.0Gi]; [cpu: 3.25, memory: 6.5Gi]; [cpu: 3.5, memory: 7Gi]; [cpu: 3.75, memory: 7.5Gi]; [cpu: 4, memory: 8Gi]", cpu, mem)
	}
	return ""
}

// templateKey is what makes a new revision: the template without scale
// (changing the replica count does not).
func templateKey(t *armappcontainers.Template) json.RawMessage {
	c := *t
	c.Scale = nil
	b, _ := json.Marshal(c)
	return b
}

func (r *revision) scaleTo(n int) {
	for len(r.replicas) > n {
		r.replicas = r.replicas[:len(r.replicas)-1]
	}
	for len(r.replicas) < n {
		r.replicas = append(r.replicas, &replica{name: r.name + "-" + strings.ToLower(rand.Text()[:10]), created: time.Now().UTC()})
	}
}

func (s *Server) newOperation(appID, fail, code string) *operation {
	op := &operation{id: strings.ToLower(rand.Text()), appID: appID, doneAt: time.Now().Add(s.opts.LRODelay), fail: fail, code: code}
	s.ops[op.id] = op
	return op
}

func (s *Server) opURL(sub, kind, id string) string {
	return fmt.Sprintf("%s/subscriptions/%s/providers/Microsoft.App/locations/fakeregion/%s/%s?api-version=2025-01-01", s.URL(), sub, kind, id)
}

func (s *Server) deleteApp(w http.ResponseWriter, p string) {
	s.settle()
	key := strings.ToLower(p)
	if _, ok := s.apps[key]; !ok {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if s.busy(key) {
		armError(w, http.StatusConflict, "ContainerAppOperationInProgress",
			fmt.Sprintf("Cannot delete container app '%s' because there is a pending operation on the resource.", lastSegment(p)))
		return
	}
	s.apps[key].model.Properties.ProvisioningState = to.Ptr(armappcontainers.ContainerAppProvisioningStateDeleting)
	op := s.newOperation(key, "", "")
	op.finish = func() { delete(s.apps, key) }
	sub := strings.Split(p, "/")[2]
	w.Header().Set("Location", s.opURL(sub, "containerappOperationResults", op.id))
	w.Header().Set("Azure-AsyncOperation", s.opURL(sub, "containerappOperationStatuses", op.id))
	w.WriteHeader(http.StatusAccepted)
}

func (s *Server) startStop(w http.ResponseWriter, m []string) {
	s.settle()
	key := strings.ToLower(m[1])
	a, ok := s.apps[key]
	if !ok {
		armError(w, http.StatusNotFound, "ResourceNotFound", fmt.Sprintf("The Resource 'Microsoft.App/containerApps/%s' was not found.", lastSegment(m[1])))
		return
	}
	if s.busy(key) {
		armError(w, http.StatusConflict, "ContainerAppOperationInProgress", "There is a pending operation on the resource.")
		return
	}
	stop := strings.EqualFold(m[2], "stop")
	a.model.Properties.RunningStatus = to.Ptr(armappcontainers.ContainerAppRunningStatusProgressing)
	op := s.newOperation(key, "", "")
	op.finish = func() {
		a.stopped = stop
		if len(a.revisions) == 0 {
			return
		}
		rev := a.revisions[len(a.revisions)-1]
		if stop {
			rev.scaleTo(0)
			a.model.Properties.RunningStatus = to.Ptr(armappcontainers.ContainerAppRunningStatusStopped)
			return
		}
		rev.scaleTo(int(deref(a.model.Properties.Template.Scale.MinReplicas, 0)))
		a.model.Properties.RunningStatus = to.Ptr(armappcontainers.ContainerAppRunningStatusRunning)
	}
	sub := strings.Split(m[1], "/")[2]
	w.Header().Set("Location", s.opURL(sub, "containerappOperationResults", op.id))
	w.WriteHeader(http.StatusAccepted)
}

func (s *Server) listSecrets(w http.ResponseWriter, m []string) {
	a, ok := s.apps[strings.ToLower(m[1])]
	if !ok {
		armError(w, http.StatusNotFound, "ResourceNotFound", fmt.Sprintf("The Resource 'Microsoft.App/containerApps/%s' was not found.", lastSegment(m[1])))
		return
	}
	out := armappcontainers.SecretsCollection{Value: []*armappcontainers.ContainerAppSecret{}}
	for _, k := range slices.Sorted(maps.Keys(a.secrets)) {
		out.Value = append(out.Value, &armappcontainers.ContainerAppSecret{Name: to.Ptr(k), Value: to.Ptr(a.secrets[k])})
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) authToken(w http.ResponseWriter, m []string) {
	a, ok := s.apps[strings.ToLower(m[1])]
	if !ok {
		armError(w, http.StatusNotFound, "ResourceNotFound", fmt.Sprintf("The Resource 'Microsoft.App/containerApps/%s' was not found.", lastSegment(m[1])))
		return
	}
	if a.token == "" || !time.Now().Before(a.tokenExpires) {
		a.token, a.tokenExpires = "app-"+rand.Text(), time.Now().Add(time.Hour)
	}
	writeJSON(w, http.StatusOK, armappcontainers.ContainerAppAuthToken{ID: a.model.ID, Name: a.model.Name, Location: a.model.Location,
		Properties: &armappcontainers.ContainerAppAuthTokenProperties{Token: to.Ptr(a.token), Expires: to.Ptr(a.tokenExpires.UTC())}})
}

// metrics answers Azure Monitor's metrics API for an app: per replica of
// its latest revision (dimension "replica", with $filter replica eq '*'),
// UsageNanoCores and WorkingSetBytes averaged over the last minute.
func (s *Server) metrics(w http.ResponseWriter, r *http.Request, m []string) {
	s.settle()
	a, ok := s.apps[strings.ToLower(m[1])]
	if !ok {
		armError(w, http.StatusNotFound, "ResourceNotFound", fmt.Sprintf("The Resource 'Microsoft.App/containerApps/%s' was not found.", lastSegment(m[1])))
		return
	}
	q := r.URL.Query()
	if !strings.Contains(q.Get("$filter"), "replica eq '*'") {
		armError(w, http.StatusBadRequest, "BadRequest", "The fake serves metrics split by replica only ($filter=replica eq '*').")
		return
	}
	values := map[string]func(int) float64{
		"UsageNanoCores":  func(i int) float64 { return float64(25_000_000 * (i + 1)) },
		"WorkingSetBytes": func(i int) float64 { return float64((40 + i) << 20) },
	}
	units := map[string]string{"UsageNanoCores": "NanoCores", "WorkingSetBytes": "Bytes"}
	var out []any
	at := time.Now().UTC().Truncate(time.Minute).Add(-time.Minute)
	for _, name := range strings.Split(q.Get("metricnames"), ",") {
		f, ok := values[name]
		if !ok {
			armError(w, http.StatusBadRequest, "BadRequest", fmt.Sprintf("Failed to find metric configuration for provider: Microsoft.App, resource Type: containerApps, metric: %s", name))
			return
		}
		var series []any
		if len(a.revisions) > 0 && !a.stopped {
			for i, rp := range a.revisions[len(a.revisions)-1].replicas {
				series = append(series, map[string]any{
					"metadatavalues": []any{map[string]any{"name": map[string]string{"value": "replica", "localizedValue": "replica"}, "value": rp.name}},
					"data":           []any{map[string]any{"timeStamp": at.Format(time.RFC3339), "average": f(i)}},
				})
			}
		}
		out = append(out, map[string]any{
			"id": m[1] + "/providers/Microsoft.Insights/metrics/" + name, "type": "Microsoft.Insights/metrics",
			"name": map[string]string{"value": name, "localizedValue": name}, "unit": units[name], "timeseries": series,
		})
	}
	writeJSON(w, http.StatusOK, map[string]any{"cost": 0, "interval": "PT1M", "namespace": "microsoft.app/containerapps",
		"resourceregion": deref(a.model.Location, ""), "value": out})
}

// LogInterval is how often each fake replica writes a log line.
const LogInterval = 200 * time.Millisecond

// logLine is the n-th line of a replica (0: its start).
func logLine(rp *replica, n int) (time.Time, string) {
	at := rp.created.Add(time.Duration(n) * LogInterval)
	if n == 0 {
		return at, fmt.Sprintf("replica %s started", rp.name)
	}
	return at, fmt.Sprintf("replica %s tick %d", rp.name, n)
}

// logStream serves a replica container's console log as the log stream
// endpoint does: one JSON object per line ({"TimeStamp", "Log"}), the last
// tailLines lines, then new ones while follow=true, for a bearer token the
// app's getAuthtoken gave.
func (s *Server) logStream(w http.ResponseWriter, r *http.Request, m []string) {
	s.mu.Lock()
	var a *app
	for _, x := range s.apps {
		if x.key == m[1] {
			a = x
		}
	}
	var rp *replica
	if a != nil {
		for _, rev := range a.revisions {
			for _, x := range rev.replicas {
				if rev.name == m[2] && x.name == m[3] {
					rp = x
				}
			}
		}
	}
	authorized := appTokenValid(a, r)
	var created time.Time
	if rp != nil {
		created = rp.created
	}
	s.mu.Unlock()
	switch {
	case !authorized:
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	case rp == nil:
		http.Error(w, "replica not found", http.StatusNotFound)
		return
	}
	copyRP := &replica{name: rp.name, created: created}
	tail, err := strconv.Atoi(r.URL.Query().Get("tailLines"))
	if err != nil || tail <= 0 {
		tail = 20
	}
	now := int(time.Since(created) / LogInterval)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	write := func(n int) bool {
		at, msg := logLine(copyRP, n)
		line, _ := json.Marshal(map[string]string{"TimeStamp": at.Format(time.RFC3339Nano), "Log": msg})
		_, err := w.Write(append(line, '\n'))
		return err == nil
	}
	for n := max(0, now-tail+1); n <= now; n++ {
		if !write(n) {
			return
		}
	}
	if r.URL.Query().Get("follow") != "true" {
		return
	}
	flusher, _ := w.(http.Flusher)
	for n := now + 1; ; n++ {
		if flusher != nil {
			flusher.Flush()
		}
		at, _ := logLine(copyRP, n)
		select {
		case <-r.Context().Done():
			return
		case <-time.After(time.Until(at)):
		}
		if !write(n) {
			return
		}
	}
}

func (s *Server) findRevision(appPath, name string) (*app, *revision) {
	a, ok := s.apps[strings.ToLower(appPath)]
	if !ok {
		return nil, nil
	}
	for _, r := range a.revisions {
		if strings.EqualFold(r.name, name) {
			return a, r
		}
	}
	return a, nil
}

func (s *Server) listReplicas(w http.ResponseWriter, m []string) {
	s.settle()
	a, rev := s.findRevision(m[1], m[2])
	if rev == nil {
		armError(w, http.StatusNotFound, "ResourceNotFound", fmt.Sprintf("Revision '%s' was not found.", m[2]))
		return
	}
	out := armappcontainers.ReplicaCollection{Value: []*armappcontainers.Replica{}}
	for _, rp := range rev.replicas {
		var containers []*armappcontainers.ReplicaContainer
		for _, c := range a.model.Properties.Template.Containers {
			containers = append(containers, &armappcontainers.ReplicaContainer{
				Name: c.Name, Ready: to.Ptr(true), Started: to.Ptr(true), RestartCount: to.Ptr(rp.restarts),
				RunningState:      to.Ptr(armappcontainers.ContainerAppContainerRunningStateRunning),
				ContainerID:       to.Ptr("containerd://" + rp.name),
				LogStreamEndpoint: to.Ptr(fmt.Sprintf("%s/logstream/%s/%s/%s/%s", s.URL(), a.key, rev.name, rp.name, deref(c.Name, ""))),
				ExecEndpoint:      to.Ptr(s.execEndpoint(a, rev, rp, deref(c.Name, ""))),
			})
		}
		out.Value = append(out.Value, &armappcontainers.Replica{
			ID: to.Ptr(m[1] + "/revisions/" + rev.name + "/replicas/" + rp.name), Name: to.Ptr(rp.name),
			Type: to.Ptr("Microsoft.App/containerApps/revisions/replicas"),
			Properties: &armappcontainers.ReplicaProperties{CreatedTime: to.Ptr(rp.created),
				RunningState: to.Ptr(armappcontainers.ContainerAppReplicaRunningStateRunning), Containers: containers},
		})
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) restartRevision(w http.ResponseWriter, m []string) {
	s.settle()
	_, rev := s.findRevision(m[1], m[2])
	if rev == nil {
		armError(w, http.StatusNotFound, "ResourceNotFound", fmt.Sprintf("Revision '%s' was not found.", m[2]))
		return
	}
	for _, rp := range rev.replicas {
		rp.restarts++
		rp.created = time.Now().UTC()
	}
	w.WriteHeader(http.StatusOK)
}

// operation answers a poll: the first one always says InProgress.
func (s *Server) operation(id string) (*operation, bool) {
	op, ok := s.ops[id]
	if !ok {
		return nil, false
	}
	op.polled++
	if op.polled > 1 {
		s.settle()
	}
	return op, true
}

func (s *Server) operationStatus(w http.ResponseWriter, id string) {
	op, ok := s.operation(id)
	if !ok {
		armError(w, http.StatusNotFound, "OperationNotFound", "The operation was not found.")
		return
	}
	body := map[string]any{"id": id, "name": id, "status": "InProgress", "startTime": time.Now().UTC().Format(time.RFC3339)}
	switch {
	case op.polled == 1 || !op.done:
	case op.fail != "":
		body["status"] = "Failed"
		body["error"] = map[string]any{"code": op.code, "message": op.fail}
	default:
		body["status"] = "Succeeded"
	}
	writeJSON(w, http.StatusOK, body)
}

func (s *Server) operationResult(w http.ResponseWriter, id string) {
	op, ok := s.operation(id)
	switch {
	case !ok:
		armError(w, http.StatusNotFound, "OperationNotFound", "The operation was not found.")
	case op.polled == 1 || !op.done:
		w.Header().Set("Location", s.srvURLForResult(id))
		w.WriteHeader(http.StatusAccepted)
	case op.fail != "":
		armError(w, http.StatusBadRequest, op.code, op.fail)
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

func (s *Server) srvURLForResult(id string) string {
	return s.opURL("00000000-0000-0000-0000-000000000000", "containerappOperationResults", id)
}

func lastSegment(p string) string {
	u, _ := url.PathUnescape(p[strings.LastIndex(p, "/")+1:])
	return u
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func armError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("x-ms-error-code", code)
	writeJSON(w, status, map[string]any{"error": map[string]any{"code": code, "message": message}})
}

func deref[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}
