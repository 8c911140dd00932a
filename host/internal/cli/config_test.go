package cli

import (
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alphaswarm/controller/core/connectivity"
)

const configSecret = "hunter2"

// setConfigEnv clears every variable config reads, then sets vars. Tests
// using it cannot run in parallel (t.Setenv).
func setConfigEnv(t *testing.T, vars map[string]string) {
	t.Helper()
	for _, sp := range connectivity.Specs() {
		t.Setenv(sp.Name, "")
	}
	for _, v := range secretSettings {
		t.Setenv(v.name, "")
	}
	for k, v := range vars {
		t.Setenv(k, v)
	}
}

func assertNoSecret(t *testing.T, outputs ...string) {
	t.Helper()
	for _, out := range outputs {
		if strings.Contains(out, configSecret) {
			t.Errorf("output shows the secret:\n%s", out)
		}
	}
}

func TestConfigRedacts(t *testing.T) {
	setConfigEnv(t, map[string]string{
		"ALPHASWARM_DATABASE_URL": "postgres://swarm:hunter2@db/swarm?sslmode=require&password=hunter2",
		"ALPHASWARM_ISSUER_URL":   "https://tenant.eu.auth0.com/",
		"ALPHASWARM_TOKEN":        configSecret,
	})
	code, out, errOut := run("config")
	if code != exitOK {
		t.Fatalf("exit %d, stderr: %s", code, errOut)
	}
	want := `ALPHASWARM_CONTROLLER_URL=http://127.0.0.1:7373  # default
ALPHASWARM_DATABASE_URL=postgres://swarm:xxxxx@db/swarm?sslmode=require&password=xxxxx  # env
ALPHASWARM_ISSUER_URL=https://tenant.eu.auth0.com/  # env
ALPHASWARM_DOCKER_URL=  # default
ALPHASWARM_KUBERNETES_URL=  # default
ALPHASWARM_AWS_URL=  # default
ALPHASWARM_AZURE_URL=  # default
ALPHASWARM_GCP_URL=  # default
ALPHASWARM_TOKEN=(set)  # env
ALPHASWARM_STATE_KEYS=(not set)  # default
`
	if out != want || errOut != "" {
		t.Errorf("stdout:\n%s\nwant:\n%s\nstderr: %s", out, want, errOut)
	}
	assertNoSecret(t, out, errOut)
}

func TestConfigJSON(t *testing.T) {
	setConfigEnv(t, map[string]string{
		"ALPHASWARM_CONTROLLER_URL": "http://ctl.example.com:7373",
		"ALPHASWARM_DATABASE_URL":   "postgres://swarm:hunter2@db/swarm",
		"ALPHASWARM_STATE_KEYS":     configSecret,
	})
	code, out, errOut := run("config", "-json")
	if code != exitOK {
		t.Fatalf("exit %d, stderr: %s", code, errOut)
	}
	var got []connectivity.Setting
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("decode %s: %v", out, err)
	}
	values := map[string]string{}
	for _, s := range got {
		values[s.Name] = s.Value + " " + s.Source
	}
	for name, want := range map[string]string{
		"ALPHASWARM_CONTROLLER_URL": "http://ctl.example.com:7373 env",
		"ALPHASWARM_DATABASE_URL":   "postgres://swarm:xxxxx@db/swarm env",
		"ALPHASWARM_TOKEN":          "(not set) default",
		"ALPHASWARM_STATE_KEYS":     "(set) env",
	} {
		if values[name] != want {
			t.Errorf("%s = %q, want %q", name, values[name], want)
		}
	}
	if len(got) != len(connectivity.Specs())+len(secretSettings) {
		t.Errorf("%d settings printed:\n%s", len(got), out)
	}
	if !strings.HasPrefix(errOut, "Warning: ALPHASWARM_CONTROLLER_URL:") || !strings.Contains(errOut, "clear text") {
		t.Errorf("no warning about plain http: %q", errOut)
	}
	assertNoSecret(t, out, errOut)
}

func TestConfigErrors(t *testing.T) {
	setConfigEnv(t, map[string]string{
		"ALPHASWARM_DATABASE_URL": "host=db password=hunter2",
		"ALPHASWARM_ISSUER_URL":   "https://tenant.eu.auth0.com",
		"ALPHASWARM_DOCKER_URL":   "ssh://deploy:hunter2@build",
		"ALPHASWARM_TOKEN":        configSecret,
	})
	code, out, errOut := run("config")
	if code != exitError || out != "" {
		t.Fatalf("exit %d, stdout %q; want exit 1 and nothing", code, out)
	}
	want := `Error: ALPHASWARM_DATABASE_URL: "(unparseable, hidden)" is not a valid URL: use postgres://[USER[:PASSWORD]@]HOST[:PORT]/DATABASE[?PARAMS]
Error: ALPHASWARM_ISSUER_URL: "https://tenant.eu.auth0.com" must end with "/" (Auth0 issuers do): use "https://tenant.eu.auth0.com/"
Error: ALPHASWARM_DOCKER_URL: "ssh://deploy:xxxxx@build" must not hold a password (use an ssh key): use "ssh://deploy@build"
`
	if errOut != want {
		t.Errorf("stderr:\n%s\nwant:\n%s", errOut, want)
	}
	assertNoSecret(t, out, errOut)
	if code, _, errOut := run("config", "extra"); code != exitUsage || !strings.Contains(errOut, `unexpected argument "extra"`) {
		t.Errorf("config extra: exit %d, stderr %q", code, errOut)
	}
}

// TestUnreachableControllerSaysWhatToDo plans against a controller that
// does not answer: the error names it and says how to get one, or to plan
// without one.
func TestUnreachableControllerSaysWhatToDo(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	t.Setenv("ALPHASWARM_CONTROLLER_URL", "http://"+addr)
	t.Setenv("ALPHASWARM_TOKEN", "token")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte("# empty\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := run("plan", dir)
	for _, want := range []string{"Error: reach the controller at " + addr, `"swarmctl dev" runs one`, `"swarmctl plan -local" plans without a controller`} {
		if code != 1 || !strings.Contains(errOut, want) {
			t.Errorf("plan against nothing: exit %d, stderr lacks %q:\n%s", code, want, errOut)
		}
	}
}
