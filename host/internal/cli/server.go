package cli

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	hclog "github.com/hashicorp/go-hclog"

	"github.com/alphaswarm/controller/core/auth"
	"github.com/alphaswarm/controller/core/connectivity"
	"github.com/alphaswarm/controller/core/credentials"
	"github.com/alphaswarm/controller/host/internal/backends"
	"github.com/alphaswarm/controller/host/internal/daemon"
	"github.com/alphaswarm/controller/host/internal/pluginmgr"
	"github.com/alphaswarm/controller/host/internal/store"
)

func runServer(e env, args []string) int {
	fs := newFlags(e, "server", "server [flags]")
	var pf pluginFlags
	pf.register(fs.FlagSet)
	home, _ := os.UserHomeDir()
	dataDir := fs.String("data-dir", envOr("ALPHASWARM_DATA_DIR", filepath.Join(home, ".alphaswarm", "data")), "where the SQLite state and its key live ($ALPHASWARM_DATA_DIR)")
	dbURL := fs.String("database-url", os.Getenv("ALPHASWARM_DATABASE_URL"), "PostgreSQL URL, for several hosts sharing one state ($ALPHASWARM_DATABASE_URL)")
	listen := fs.String("listen", envOr("ALPHASWARM_LISTEN", "127.0.0.1:7373"), "address of the API, /healthz, /readyz and /metrics ($ALPHASWARM_LISTEN)")
	workers := fs.Int("workers", 4, "jobs run at once")
	lease := fs.Duration("lease", 30*time.Second, "job lease; a dead host's jobs run again this long after it stopped renewing")
	grace := fs.Duration("grace", 30*time.Second, "on SIGTERM, how long running jobs and open requests get before they are cancelled and the host exits")
	hostname, _ := os.Hostname()
	id := fs.String("id", fmt.Sprintf("%s-%d", hostname, os.Getpid()), "this host's name in job leases")
	secretStore := fs.String("secret-store", "env", "where secret(\"...\") values come from: env ($ALPHASWARM_TENANT_SECRET_<TENANT>__<NAME>) or dir (<secret-dir>/tenants/<tenant>/<name>)")
	secretDir := fs.String("secret-dir", "", "the directory of the dir secret store, one file per secret")
	configFile := fs.String("config", os.Getenv("ALPHASWARM_CONFIG"), "the host configuration file: the backends operators register, and who may use them ($ALPHASWARM_CONFIG)")
	var af authFlags
	af.register(fs.FlagSet)
	if _, code, ok := fs.parse(args); !ok {
		return code
	}
	if _, err := connectivity.Load(os.Getenv); err != nil {
		return e.errorf("%v", err)
	}
	verifier, err := af.verifier()
	if err != nil {
		return e.errorf("%v", err)
	}
	secrets, err := credentials.Open(*secretStore, map[string]string{"path": *secretDir})
	if err != nil {
		return e.errorf("%v", err)
	}
	lock, err := pluginmgr.ReadLockFile(pf.lockFile)
	if err != nil {
		return e.errorf("%v", err)
	}
	logger := hclog.New(&hclog.LoggerOptions{Name: "swarmctl", Output: e.stderr, Level: hclog.Info})
	registry := backends.New(secrets)
	if *configFile == "" {
		logger.Warn("no host configuration (-config): no backend is registered, so tenants can deploy nowhere")
	} else if err := backends.DiagnosticsError(registry.Load(*configFile)); err != nil {
		return e.errorf("%v", err)
	}
	cfg := daemon.Config{
		Store:    store.Config{DataDir: *dataDir, DatabaseURL: *dbURL, StateKeys: splitKeys(os.Getenv("ALPHASWARM_STATE_KEYS"))},
		Plugins:  pluginmgr.Config{PluginDirs: pf.pluginDirs(), Lock: lock, Logger: logger.Named("plugins"), StartTimeout: 10 * time.Second},
		Backends: registry,
		ID:       *id, Workers: *workers, Lease: *lease, Grace: *grace, Listen: *listen, Logger: logger, Verifier: verifier,
		Secrets: &credentials.Resolver{Store: secrets, StoreName: *secretStore},
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err = daemon.Run(ctx, cfg, func(addr net.Addr) { fmt.Fprintf(e.stdout, "listening on %s\n", addr) })
	if err != nil {
		return e.errorf("%v", err)
	}
	return exitOK
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// splitKeys reads a comma-separated key list; empty means none.
func splitKeys(s string) []string {
	var keys []string
	for _, k := range strings.Split(s, ",") {
		if k = strings.TrimSpace(k); k != "" {
			keys = append(keys, k)
		}
	}
	return keys
}

// authFlags configure the access-token verifier.
type authFlags struct {
	issuer, audience, provider, tenantClaim, envClaim string
}

func (a *authFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&a.issuer, "issuer", os.Getenv("ALPHASWARM_ISSUER_URL"), "token issuer, exactly as tokens name it: Auth0's ends with / ($ALPHASWARM_ISSUER_URL); without it the API is off")
	fs.StringVar(&a.audience, "audience", os.Getenv("ALPHASWARM_AUDIENCE"), "the API identifier tokens must be issued for ($ALPHASWARM_AUDIENCE)")
	fs.StringVar(&a.provider, "identity-provider", envOr("ALPHASWARM_IDENTITY_PROVIDER", "auth0"), "auth0 or oidc ($ALPHASWARM_IDENTITY_PROVIDER)")
	fs.StringVar(&a.tenantClaim, "tenant-claim", os.Getenv("ALPHASWARM_TENANT_CLAIM"), "claim holding the tenant (auth0: org_id) ($ALPHASWARM_TENANT_CLAIM)")
	fs.StringVar(&a.envClaim, "environments-claim", envOr("ALPHASWARM_ENVIRONMENTS_CLAIM", auth.DefaultEnvironmentsClaim), "claim listing the granted environments ($ALPHASWARM_ENVIRONMENTS_CLAIM)")
}

// verifier returns nil when no issuer is configured.
func (a *authFlags) verifier() (auth.Verifier, error) {
	if a.issuer == "" {
		return nil, nil
	}
	return auth.New(a.provider, auth.Config{Issuer: a.issuer, Audience: a.audience, TenantClaim: a.tenantClaim, EnvironmentsClaim: a.envClaim})
}
