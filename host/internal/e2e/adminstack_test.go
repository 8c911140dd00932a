package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	crand "crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/alphaswarm/controller/core/auth/devissuer"
)

// TestAdminStack builds the controller's image with the script make image
// runs, brings deployments/compose/docker-compose.admin.yml up with the
// real docker-compose under a project of its own, waits for the image's
// health check, applies a topology through the published API with a token
// of an issuer the stack trusts, checks how the container runs, and brings
// everything down, leaving no container, network or volume behind. Then it
// does the same with the docker profile and a compose-backend deployment,
// whose workloads must stay off the admin network (checkDockerProfile).
func TestAdminStack(t *testing.T) {
	if _, err := exec.LookPath("docker-compose"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the admin stack test needs docker-compose (Debian's docker-compose package) and CI=true: %v", err)
		}
		t.Skipf("SKIP: no docker-compose (%v); install Debian's docker-compose, or set CI=true to make this a failure", err)
	}
	start := time.Now()
	root, err := filepath.Abs("../../..")
	if err != nil {
		t.Fatal(err)
	}
	id := fmt.Sprintf("%d%x", os.Getpid(), rand.Uint32())
	project, network, version := "asadm"+id, "alphaswarm-admin-"+id, "e2e-"+id
	image := "alphaswarm/controller:" + version
	tmp := t.TempDir()

	// The image, as make image builds it.
	build := exec.Command(filepath.Join(root, "scripts/image.sh"))
	build.Env = append(os.Environ(), "VERSION="+version, "IMAGE="+image, "IMAGE_CONTEXT="+filepath.Join(tmp, "image"))
	t.Cleanup(func() { dockerCLI("rmi", "-f", image) })
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("scripts/image.sh: %v\n%s", err, out)
	}
	t.Logf("image built in %v", time.Since(start).Round(time.Millisecond))

	// An issuer the stack trusts, reachable from the container through the
	// Docker bridge's address on this machine, over TLS (the host takes
	// http for loopback issuers only) from a CA the container is given
	// through a test override of the compose file, as an operator would
	// give a private CA.
	caDir := filepath.Join(tmp, "ca")
	iss := startBridgeIssuer(t, caDir)
	override := filepath.Join(tmp, "override.yml")
	trustCA := fmt.Sprintf(`
    environment:
      SSL_CERT_DIR: /etc/alphaswarm/test-ca
    volumes:
      - %s:/etc/alphaswarm/test-ca:ro
`, caDir)
	if err := os.WriteFile(override, []byte("services:\n  controller:"+trustCA+"  controller-docker:"+trustCA), 0o644); err != nil {
		t.Fatal(err)
	}

	secrets := filepath.Join(tmp, "secrets")
	if err := os.MkdirAll(filepath.Join(secrets, "tenants", "demo"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(secrets, "tenants", "demo", "db"), []byte("s3cret"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{tmp, caDir, secrets, filepath.Join(secrets, "tenants")} {
		if err := os.Chmod(d, 0o755); err != nil { // the container's user 65532 reads them
			t.Fatal(err)
		}
	}
	port := strconv.Itoa(freePort(t))
	gid := dockerSocketGID(t)
	compose := func(args ...string) (string, error) {
		cmd := exec.Command("docker-compose", append([]string{"-p", project, "-f", filepath.Join(root, "deployments/compose/docker-compose.admin.yml"), "-f", override}, args...)...)
		cmd.Env = append(os.Environ(),
			"ALPHASWARM_VERSION="+version,
			"ALPHASWARM_ADMIN_PORT="+port,
			"ALPHASWARM_ADMIN_NETWORK="+network,
			"ALPHASWARM_SECRETS_DIR="+secrets,
			"ALPHASWARM_ISSUER_URL="+iss.Issuer,
			"ALPHASWARM_AUDIENCE="+iss.Audience,
			"ALPHASWARM_DOCKER_GID="+gid,
		)
		out, err := cmd.CombinedOutput()
		if err != nil {
			return string(out), fmt.Errorf("docker-compose %s: %w\n%s", strings.Join(args, " "), err, out)
		}
		return string(out), nil
	}
	t.Cleanup(func() {
		if _, err := compose("--profile", "docker", "down", "-v", "--remove-orphans"); err != nil {
			t.Error(err)
		}
	})
	upAt := time.Now()
	if _, err := compose("up", "-d", "controller"); err != nil {
		t.Fatal(err)
	}
	ctr := composeContainer(t, project)
	waitHealthy(t, ctr, "controller", compose)
	t.Logf("healthy %v after up", time.Since(upAt).Round(time.Millisecond))

	api := "http://127.0.0.1:" + port
	get := func(path, token string) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, api+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := get("/readyz", ""); code != http.StatusOK {
		t.Fatalf("GET /readyz through 127.0.0.1:%s: %d", port, code)
	}
	if code := get("/v1/deployments", ""); code != http.StatusUnauthorized {
		t.Errorf("GET /v1/deployments without a token: %d, want 401", code)
	}
	token, err := iss.Mint(devissuer.Claims{Subject: "operator", Tenant: "demo", Environments: []string{"dev"}, Permissions: []string{
		"deployments:read", "deployments:deploy", "deployments:destroy", "backends:read",
	}})
	if err != nil {
		t.Fatal(err)
	}
	if code := get("/v1/backends", token); code != http.StatusOK {
		t.Fatalf("GET /v1/backends with the issuer's token: %d, want 200", code)
	}
	t.Setenv("ALPHASWARM_CONTROLLER_URL", api)
	t.Setenv("ALPHASWARM_TOKEN", token)
	dir := writeTopology(t, `
backend "memory" "sim" {}

deployment "web" {
  tenant      = "demo"
  environment = "dev"
  backend     = backend.memory.sim

  service "api" {
    image    = "api:1"
    replicas = 2
    secret_env = {
      DB_PASSWORD = secret("db")
    }
  }
}
`)
	for _, step := range []struct {
		args []string
		want string
	}{
		{[]string{"apply", "-auto-approve", dir}, "demo/dev/web: apply succeeded"},
		{[]string{"status", "demo/web"}, "api      2/2"},
		{[]string{"destroy", "-auto-approve", "demo/web"}, "demo/dev/web: destroy succeeded"},
	} {
		code, out, errOut := swarmctl(t, step.args...)
		if code != 0 || !strings.Contains(out, step.want) {
			logs, _ := compose("logs", "--no-color", "controller")
			t.Fatalf("swarmctl %s: exit %d, want %q\nstdout:\n%s\nstderr:\n%s\ncontroller:\n%s", strings.Join(step.args, " "), code, step.want, out, errOut, logs)
		}
	}

	// How the container runs.
	var insp []struct {
		Config     struct{ User string }
		HostConfig struct {
			ReadonlyRootfs bool
			CapDrop        []string
			CapAdd         []string
			SecurityOpt    []string
			Privileged     bool
			Tmpfs          map[string]string
			PortBindings   map[string][]struct{ HostIp, HostPort string }
		}
		NetworkSettings struct {
			Networks map[string]json.RawMessage
			Ports    map[string][]struct{ HostIp, HostPort string }
		}
		Mounts []struct{ Type, Destination string }
	}
	out, err := dockerCLI("inspect", ctr)
	if err == nil {
		err = json.Unmarshal([]byte(out), &insp)
	}
	if err != nil || len(insp) != 1 {
		t.Fatalf("docker inspect %s: %v", ctr, err)
	}
	c := insp[0]
	if c.Config.User != "65532:65532" {
		t.Errorf("user %q, want 65532:65532", c.Config.User)
	}
	if !c.HostConfig.ReadonlyRootfs {
		t.Error("the root filesystem is writable")
	}
	if !slices.Equal(c.HostConfig.CapDrop, []string{"ALL"}) || len(c.HostConfig.CapAdd) > 0 || c.HostConfig.Privileged {
		t.Errorf("capabilities: drop %v, add %v, privileged %v; want drop [ALL] only", c.HostConfig.CapDrop, c.HostConfig.CapAdd, c.HostConfig.Privileged)
	}
	if !slices.Contains(c.HostConfig.SecurityOpt, "no-new-privileges:true") {
		t.Errorf("security options %v lack no-new-privileges", c.HostConfig.SecurityOpt)
	}
	if _, ok := c.HostConfig.Tmpfs["/tmp"]; !ok {
		t.Errorf("tmpfs %v lacks /tmp", c.HostConfig.Tmpfs)
	}
	if nets := mapKeys(c.NetworkSettings.Networks); !slices.Equal(nets, []string{network}) {
		t.Errorf("networks %v, want only %s", nets, network)
	}
	// The network is the project's alphaswarm-admin (its name set through
	// ALPHASWARM_ADMIN_NETWORK), with the controller alone on it.
	if out, _ := dockerCLI("network", "inspect", "-f", `{{index .Labels "com.docker.compose.project"}} {{len .Containers}} {{.Internal}}`, network); strings.TrimSpace(out) != project+" 1 false" {
		t.Errorf("network %s: project, containers, internal = %q, want %q", network, strings.TrimSpace(out), project+" 1 false")
	}
	var published []string
	for p, bs := range c.NetworkSettings.Ports {
		for _, b := range bs {
			published = append(published, b.HostIp+":"+b.HostPort+"->"+p)
		}
	}
	if want := []string{"127.0.0.1:" + port + "->7373/tcp"}; !slices.Equal(published, want) {
		t.Errorf("published %v, want %v", published, want)
	}
	var data bool
	for _, m := range c.Mounts {
		data = data || (m.Type == "volume" && m.Destination == "/data")
	}
	if !data {
		t.Errorf("mounts %+v: /data is not a named volume", c.Mounts)
	}
	// A file written anywhere but /data and /tmp fails: there is no shell
	// to try with, so swarmctl's own lock command writes one.
	if _, err := dockerCLI("exec", ctr, "/usr/bin/swarmctl", "plugins", "lock", "-lock-file", "/etc/alphaswarm/x.hcl"); err == nil || !strings.Contains(err.Error(), "read-only file system") {
		t.Errorf("writing under /etc in the container: %v, want a read-only file system", err)
	}
	if _, err := dockerCLI("exec", ctr, "/bin/sh", "-c", "true"); err == nil {
		t.Error("the image has a shell")
	}

	// Down, with nothing left.
	stackDown(t, project, compose)

	// The same image and issuer again, with the docker profile instead.
	t.Run("docker profile", func(t *testing.T) {
		checkDockerProfile(t, adminStack{project: project, network: network, id: id, compose: compose})
	})
	t.Logf("admin stack test took %v", time.Since(start).Round(time.Millisecond))
}

// stackDown brings the stack of project down, volumes too, and checks that
// no container, network or volume of it is left.
func stackDown(t *testing.T, project string, compose func(...string) (string, error)) {
	t.Helper()
	if _, err := compose("--profile", "docker", "down", "-v", "--remove-orphans"); err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{"container", "network", "volume"} {
		args := []string{kind, "ls", "-q", "--filter", "label=com.docker.compose.project=" + project}
		if kind == "container" {
			args = []string{"ps", "-aq", "--filter", "label=com.docker.compose.project=" + project}
		}
		if out, err := dockerCLI(args...); err != nil || strings.TrimSpace(out) != "" {
			t.Errorf("after down, %ss of project %s: %q %v", kind, project, out, err)
		}
	}
}

func mapKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// composeContainer is the one container of project.
func composeContainer(t *testing.T, project string) string {
	t.Helper()
	out, err := dockerCLI("ps", "-aq", "--filter", "label=com.docker.compose.project="+project)
	if err != nil {
		t.Fatal(err)
	}
	ids := strings.Fields(out)
	if len(ids) != 1 {
		t.Fatalf("project %s has containers %v, want one", project, ids)
	}
	return ids[0]
}

// waitHealthy waits for the image's HEALTHCHECK to call ctr, the container
// of the compose service, healthy.
func waitHealthy(t *testing.T, ctr, service string, compose func(...string) (string, error)) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		out, err := dockerCLI("inspect", "-f", "{{.State.Status}} {{.State.Health.Status}}", ctr)
		status := strings.TrimSpace(out)
		switch {
		case err != nil:
			t.Fatal(err)
		case status == "running healthy":
			return
		case strings.HasPrefix(status, "exited") || strings.HasSuffix(status, "unhealthy") || time.Now().After(deadline):
			logs, _ := compose("logs", "--no-color", service)
			t.Fatalf("%s is %q, want running healthy\n%s", service, status, logs)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// bridgeIssuer serves discovery and keys on the Docker bridge's address of
// this machine, which containers on a bridge network reach, and mints
// tokens for it. (devissuer serves loopback only, which a container cannot
// reach.)
type bridgeIssuer struct{ *devissuer.Signer }

func startBridgeIssuer(t *testing.T, caDir string) bridgeIssuer {
	t.Helper()
	ifc, err := net.InterfaceByName("docker0")
	var ip net.IP
	if err == nil {
		addrs, _ := ifc.Addrs()
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil {
				ip = n.IP
			}
		}
	}
	if ip == nil {
		t.Fatalf("find the Docker bridge's address (docker0) for a token issuer the container reaches: %v", err)
	}
	lis, err := net.Listen("tcp", net.JoinHostPort(ip.String(), "0"))
	if err != nil {
		t.Fatal(err)
	}
	key, err := devissuer.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	url := "https://" + lis.Addr().String() + "/"
	cert := issuerCert(t, ip, caDir)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, _ *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{
			"issuer": url, "jwks_uri": url + ".well-known/jwks.json",
			"id_token_signing_alg_values_supported": []string{"RS256"},
			"response_types_supported":              []string{"token"},
			"subject_types_supported":               []string{"public"},
		})
	})
	mux.HandleFunc("GET /.well-known/jwks.json", func(w http.ResponseWriter, _ *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"keys": []any{rsaJWK(&key.PublicKey)}})
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}}}
	go srv.ServeTLS(lis, "", "")
	t.Cleanup(func() { srv.Close() })
	return bridgeIssuer{&devissuer.Signer{Issuer: url, Audience: "https://admin-stack.alphaswarm.test", Key: key}}
}

// issuerCert makes a CA, writes its certificate into caDir and returns a
// serving certificate for ip that it signed.
func issuerCert(t *testing.T, ip net.IP, caDir string) tls.Certificate {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), crand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "admin stack test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(crand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), crand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificate(crand.Reader, &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: ip.String()},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IPAddresses: []net.IP{ip}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(caDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(caDir, "ca.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o644); err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func rsaJWK(pub *rsa.PublicKey) map[string]string {
	b64 := base64.RawURLEncoding.EncodeToString
	return map[string]string{
		"kty": "RSA", "use": "sig", "alg": "RS256", "kid": devissuer.KeyID(pub),
		"n": b64(pub.N.Bytes()), "e": b64(big.NewInt(int64(pub.E)).Bytes()),
	}
}
