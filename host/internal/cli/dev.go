package cli

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	hclog "github.com/hashicorp/go-hclog"

	"github.com/alphaswarm/controller/core/auth"
	"github.com/alphaswarm/controller/core/auth/devissuer"
	"github.com/alphaswarm/controller/core/credentials"
	"github.com/alphaswarm/controller/host/internal/backends"
	"github.com/alphaswarm/controller/host/internal/daemon"
	"github.com/alphaswarm/controller/host/internal/pluginmgr"
	"github.com/alphaswarm/controller/host/internal/store"
)

// DevAudience is the API identifier of dev-mode tokens.
const DevAudience = "https://api.alphaswarm.dev/"

// devIssuer is what dev mode writes for "swarmctl dev token": the issuer's
// URL and audience; the key is beside it.
type devIssuer struct {
	Issuer   string `json:"issuer"`
	Audience string `json:"audience"`
}

func devPaths(dir string) (key, meta, token, envFile string) {
	d := filepath.Join(dir, "dev")
	return filepath.Join(d, "issuer-key.pem"), filepath.Join(d, "issuer.json"), filepath.Join(d, "token"), filepath.Join(d, "env.sh")
}

// runDev runs the server for a laptop: SQLite under .swarm/, the plugins
// of bin/plugins, and a local issuer on loopback whose tokens the server
// checks exactly as it checks Auth0's.
func runDev(e env, args []string) int {
	if len(args) > 0 && args[0] == "token" {
		return runDevToken(e, args[1:])
	}
	fs := newFlags(e, "dev", "dev [flags]   |   dev token [flags]")
	var pf pluginFlags
	pf.register(fs.FlagSet)
	dir := fs.String("dir", ".swarm", "where dev mode keeps its state, key and token")
	listen := fs.String("listen", "127.0.0.1:7373", "address of the API (loopback)")
	issuerListen := fs.String("issuer-listen", "127.0.0.1:7374", "address of the local token issuer (loopback)")
	tenant := fs.String("tenant", "demo", "tenant of the printed all-permissions token")
	ttl := fs.Duration("ttl", 12*time.Hour, "lifetime of the printed token")
	configFile := fs.String("config", "", "a host configuration file whose backends replace dev mode's own of the same name")
	if _, code, ok := fs.parse(args); !ok {
		return code
	}
	if err := loopbackOnly(*listen); err != nil {
		return e.errorf("%v", err)
	}
	keyPath, metaPath, tokenPath, envPath := devPaths(*dir)
	key, err := devissuer.LoadOrCreateKey(keyPath)
	if err != nil {
		return e.errorf("%v", err)
	}
	iss, err := devissuer.Start(*issuerListen, DevAudience, key)
	if err != nil {
		return e.errorf("%v (is another swarmctl dev running?)", err)
	}
	defer iss.Close()
	if err := writePrivateJSON(metaPath, devIssuer{Issuer: iss.URL, Audience: DevAudience}); err != nil {
		return e.errorf("%v", err)
	}
	token, err := iss.Mint(devissuer.Claims{Subject: "dev@" + *tenant, Tenant: *tenant, Environments: []string{auth.AllEnvironments},
		Permissions: permissionNames(auth.AllPermissions()), TTL: *ttl})
	if err != nil {
		return e.errorf("%v", err)
	}
	verifier, err := auth.New("auth0", auth.Config{Issuer: iss.URL, Audience: DevAudience})
	if err != nil {
		return e.errorf("%v", err)
	}
	secrets, err := credentials.Open("env", nil)
	if err != nil {
		return e.errorf("%v", err)
	}
	registry, err := devBackends(secrets, *dir, *configFile)
	if err != nil {
		return e.errorf("%v", err)
	}
	logger := hclog.New(&hclog.LoggerOptions{Name: "swarmctl", Output: e.stderr, Level: hclog.Info})
	cfg := daemon.Config{
		Store:    store.Config{DataDir: filepath.Join(*dir, "data")},
		Plugins:  pluginmgr.Config{PluginDirs: pf.pluginDirs(), Logger: logger.Named("plugins"), StartTimeout: 10 * time.Second},
		Backends: registry,
		ID:       "dev", Listen: *listen, Logger: logger, Verifier: verifier,
		Secrets: &credentials.Resolver{Store: secrets, StoreName: "env"},
	}
	ctx, stop := interrupted()
	defer stop()
	err = daemon.Run(ctx, cfg, func(addr net.Addr) {
		url := "http://" + addr.String()
		lines := fmt.Sprintf("export ALPHASWARM_CONTROLLER_URL=%s\nexport ALPHASWARM_TOKEN=%s\n", url, token)
		os.WriteFile(tokenPath, []byte(token+"\n"), 0o600)
		os.WriteFile(envPath, []byte(lines), 0o600)
		fmt.Fprintf(e.stdout, "Dev mode: the API on %s, state under %s, tokens from the local issuer %s\n\n", url, *dir, iss.URL)
		fmt.Fprintf(e.stdout, "In another shell (or: . %s):\n\n%s\n", envPath, indent(lines))
		fmt.Fprintf(e.stdout, "The token grants every permission on tenant %q until %s. Mint others with\n  swarmctl dev token -tenant T -permissions p1,p2 [-envs e1,e2] [-ttl D]\n\n",
			*tenant, time.Now().Add(*ttl).Format(time.RFC3339))
	})
	if err != nil {
		return e.errorf("%v", err)
	}
	return exitOK
}

// devBackends registers dev mode's backends for every tenant and
// environment: compose.local and memory.sim, and kubernetes.local once make
// k8s-up has written its kubeconfig under dir. A configuration file's
// backends come first and replace those of the same name.
func devBackends(secrets credentials.SecretStore, dir, configFile string) (*backends.Registry, error) {
	r := backends.New(secrets)
	if configFile != "" {
		if err := backends.DiagnosticsError(r.Load(configFile)); err != nil {
			return nil, err
		}
	}
	builtin := backends.New(secrets)
	// compose.local keeps the project prefix the quickstart once set itself,
	// so that examples applied before backends were registered stay theirs.
	src := withConfig(backends.ForEveryone("compose.local"), `project_prefix = "quick"`) + backends.ForEveryone("memory.sim")
	if kubeconfig, err := filepath.Abs(filepath.Join(dir, "k8s", "kubeconfig")); err == nil {
		if _, err := os.Stat(kubeconfig); err == nil {
			src += withConfig(backends.ForEveryone("kubernetes.local"), fmt.Sprintf("kubeconfig = %q", kubeconfig))
		}
	}
	if err := backends.DiagnosticsError(builtin.Parse([]byte(src), "dev mode")); err != nil {
		return nil, err
	}
	for _, b := range builtin.List() {
		if r.Lookup(b.ID()) == nil {
			if err := r.Add(b); err != nil {
				return nil, err
			}
		}
	}
	return r, nil
}

// withConfig adds a config block of one attribute to a backend of
// ForEveryone's.
func withConfig(backend, attribute string) string {
	return strings.Replace(backend, "  grant {", "  config {\n    "+attribute+"\n  }\n  grant {", 1)
}

// runDevToken mints a token from the key of dev mode in -dir.
func runDevToken(e env, args []string) int {
	fs := newFlags(e, "dev token", "dev token -tenant T -permissions p1,p2 [-envs e1,e2] [-ttl D]")
	dir := fs.String("dir", ".swarm", "the dev mode directory")
	tenant := fs.String("tenant", "", "the token's tenant (org_id)")
	perms := fs.String("permissions", "", "comma-separated permissions, or all")
	envs := fs.String("envs", "*", "comma-separated environments, or * for all")
	ttl := fs.Duration("ttl", time.Hour, "lifetime")
	subject := fs.String("subject", "", "the token's subject (default dev@TENANT)")
	if _, code, ok := fs.parse(args); !ok {
		return code
	}
	if *tenant == "" {
		return fs.usageError("missing -tenant")
	}
	ps, err := auth.ParsePermissions(*perms)
	if err != nil {
		return fs.usageError("-permissions: %v", err)
	}
	keyPath, metaPath, _, _ := devPaths(*dir)
	var meta devIssuer
	b, err := os.ReadFile(metaPath)
	if err == nil {
		err = json.Unmarshal(b, &meta)
	}
	if err != nil {
		return e.errorf("read the dev issuer (run swarmctl dev first): %v", err)
	}
	key, err := devissuer.LoadOrCreateKey(keyPath)
	if err != nil {
		return e.errorf("%v", err)
	}
	if *subject == "" {
		*subject = "dev@" + *tenant
	}
	signer := &devissuer.Signer{Issuer: meta.Issuer, Audience: meta.Audience, Key: key}
	token, err := signer.Mint(devissuer.Claims{Subject: *subject, Tenant: *tenant, Environments: splitKeys(*envs), Permissions: permissionNames(ps), TTL: *ttl})
	if err != nil {
		return e.errorf("%v", err)
	}
	fmt.Fprintln(e.stdout, token)
	return exitOK
}

func permissionNames(ps []auth.Permission) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = string(p)
	}
	return out
}

func loopbackOnly(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if ip := net.ParseIP(host); err != nil || (host != "localhost" && (ip == nil || !ip.IsLoopback())) {
		return fmt.Errorf("dev mode listens on loopback only, not %q", addr)
	}
	return nil
}

func writePrivateJSON(path string, v any) error {
	b, _ := json.MarshalIndent(v, "", "  ")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n  ") + "\n"
}
