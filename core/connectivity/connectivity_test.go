package connectivity

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// env returns a getenv reading from vars.
func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// field returns the URL Load stored for the setting name.
func field(t *testing.T, s *Settings, name string) *url.URL {
	t.Helper()
	for _, sp := range specs {
		if sp.Name == name {
			return *sp.field(s)
		}
	}
	t.Fatalf("no setting %s", name)
	return nil
}

func TestLoadDefaults(t *testing.T) {
	t.Parallel()
	s, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range s.Entries() {
		got = append(got, fmt.Sprintf("%s=%s %s sensitive=%t", e.Name, e.Value, e.Source, e.Sensitive))
	}
	want := []string{
		"ALPHASWARM_CONTROLLER_URL=http://127.0.0.1:7373 default sensitive=false",
		"ALPHASWARM_DATABASE_URL= default sensitive=true",
		"ALPHASWARM_ISSUER_URL= default sensitive=false",
		"ALPHASWARM_DOCKER_URL= default sensitive=false",
		"ALPHASWARM_KUBERNETES_URL= default sensitive=false",
		"ALPHASWARM_AWS_URL= default sensitive=false",
		"ALPHASWARM_AZURE_URL= default sensitive=false",
		"ALPHASWARM_GCP_URL= default sensitive=false",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("entries (-want +got):\n%s", diff)
	}
	if s.Controller.String() != "http://127.0.0.1:7373" {
		t.Errorf("controller = %v", s.Controller)
	}
	for _, u := range []*url.URL{s.Database, s.Issuer, s.Docker, s.Kubernetes, s.AWS, s.Azure, s.GCP} {
		if u != nil {
			t.Errorf("an empty setting has a URL: %v", u)
		}
	}
	if w := s.Warnings(); len(w) != 0 {
		t.Errorf("warnings: %q", w)
	}
}

func TestSpecsMatchEntries(t *testing.T) {
	t.Parallel()
	s, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	got := Specs()
	for i, e := range s.Entries() {
		if got[i].Name != e.Name || got[i].Description != e.Description || got[i].Sensitive != e.Sensitive || len(got[i].Schemes) == 0 {
			t.Errorf("spec %d = %+v, entry %+v", i, got[i], e)
		}
	}
	got[0].Schemes[0] = "changed"
	if Specs()[0].Schemes[0] == "changed" {
		t.Error("Specs shares its table")
	}
}

func TestLoadValid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, value string
		shown       string // the entry's value, "" for value itself
	}{
		{"ALPHASWARM_CONTROLLER_URL", "https://ctl.example.com", ""},
		{"ALPHASWARM_CONTROLLER_URL", "https://ctl.example.com:8443/api/", ""},
		{"ALPHASWARM_CONTROLLER_URL", "http://localhost:7373", ""},
		{"ALPHASWARM_CONTROLLER_URL", "http://[::1]:7373", ""},
		{"ALPHASWARM_CONTROLLER_URL", "http://ctl.example.com:7373", ""},
		{"ALPHASWARM_DATABASE_URL", "postgres://swarm@db.internal:5432/swarm?sslmode=verify-full", ""},
		{"ALPHASWARM_DATABASE_URL", "postgresql://swarm:hunter2@db/swarm", "postgresql://swarm:xxxxx@db/swarm"},
		{"ALPHASWARM_DATABASE_URL", "postgres://db/swarm?user=swarm&password=hunter2", "postgres://db/swarm?user=swarm&password=xxxxx"},
		{"ALPHASWARM_DATABASE_URL", "postgres:///swarm?host=/var/run/postgresql", ""},
		{"ALPHASWARM_ISSUER_URL", "https://tenant.eu.auth0.com/", ""},
		{"ALPHASWARM_ISSUER_URL", "http://127.0.0.1:8080/", ""},
		{"ALPHASWARM_ISSUER_URL", "http://localhost:8080/realms/dev/", ""},
		{"ALPHASWARM_DOCKER_URL", "unix:///var/run/docker.sock", ""},
		{"ALPHASWARM_DOCKER_URL", "tcp://10.0.0.5:2376", ""},
		{"ALPHASWARM_DOCKER_URL", "ssh://deploy@build.example.com", ""},
		{"ALPHASWARM_DOCKER_URL", "ssh://build.example.com:2222", ""},
		{"ALPHASWARM_KUBERNETES_URL", "https://k8s.example.com:6443", ""},
		{"ALPHASWARM_KUBERNETES_URL", "https://rancher.example.com/k8s/clusters/c-1", ""},
		{"ALPHASWARM_KUBERNETES_URL", "http://127.0.0.1:8001", ""},
		{"ALPHASWARM_AWS_URL", "https://s3.eu-west-1.amazonaws.com", ""},
		{"ALPHASWARM_AWS_URL", "http://localhost:4566", ""},
		{"ALPHASWARM_AZURE_URL", "http://127.0.0.1:10000/devstoreaccount1", ""},
		{"ALPHASWARM_GCP_URL", "https://storage.googleapis.com", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name+"="+tt.value, func(t *testing.T) {
			t.Parallel()
			s, err := Load(env(map[string]string{tt.name: tt.value}))
			if err != nil {
				t.Fatal(err)
			}
			if got := field(t, s, tt.name).String(); got != tt.value {
				t.Errorf("URL = %q, want %q", got, tt.value)
			}
			shown := tt.shown
			if shown == "" {
				shown = tt.value
			}
			for _, e := range s.Entries() {
				if e.Name == tt.name && (e.Value != shown || e.Source != SourceEnv) {
					t.Errorf("entry = %+v, want value %q from env", e, shown)
				}
			}
		})
	}
}

func TestLoadInvalid(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, value, want string }{
		{"ALPHASWARM_CONTROLLER_URL", "localhost:7373", `"(unparseable, hidden)" is not a valid URL: use http://HOST[:PORT][/PATH] or https://HOST[:PORT][/PATH]`},
		{"ALPHASWARM_CONTROLLER_URL", "127.0.0.1:7373", `"(unparseable, hidden)" is not a valid URL: use http://HOST[:PORT][/PATH] or https://HOST[:PORT][/PATH]`},
		{"ALPHASWARM_CONTROLLER_URL", "ftp://ctl.example.com", `"ftp://ctl.example.com" has scheme "ftp": use http://HOST[:PORT][/PATH] or https://HOST[:PORT][/PATH]`},
		{"ALPHASWARM_CONTROLLER_URL", "http:///api", `"http:///api" has no host: use http://HOST[:PORT][/PATH] or https://HOST[:PORT][/PATH]`},
		{"ALPHASWARM_CONTROLLER_URL", "http://ctl:7373/?debug=1", `"http://ctl:7373/?debug=1" must not have a query or fragment: use "http://ctl:7373/"`},
		{"ALPHASWARM_CONTROLLER_URL", "https://ctl/#top", `"https://ctl/#xxxxx" must not have a query or fragment: use "https://ctl/"`},
		{"ALPHASWARM_CONTROLLER_URL", "https://admin:hunter2@ctl", `"https://admin:xxxxx@ctl" must not hold credentials: use "https://ctl"`},
		{"ALPHASWARM_CONTROLLER_URL", "http://ctl:0", `"http://ctl:0" has port 0: use a port from 1 to 65535`},
		{"ALPHASWARM_CONTROLLER_URL", "http://ctl:65536", `"http://ctl:65536" has port 65536: use a port from 1 to 65535`},
		{"ALPHASWARM_DATABASE_URL", "mysql://swarm@db/swarm", `"mysql://swarm@db/swarm" has scheme "mysql": use postgres://[USER[:PASSWORD]@]HOST[:PORT]/DATABASE[?PARAMS]`},
		{"ALPHASWARM_DATABASE_URL", "host=db user=swarm password=hunter2", `"(unparseable, hidden)" is not a valid URL: use postgres://[USER[:PASSWORD]@]HOST[:PORT]/DATABASE[?PARAMS]`},
		{"ALPHASWARM_DATABASE_URL", "postgres://swarm@db/swarm#x", `"postgres://swarm@db/swarm#xxxxx" must not have a fragment: write a "#" in the password as %23`},
		{"ALPHASWARM_DATABASE_URL", "postgres://db:70000/swarm", `"postgres://db:70000/swarm" has port 70000: use a port from 1 to 65535`},
		{"ALPHASWARM_ISSUER_URL", "https://tenant.eu.auth0.com", `"https://tenant.eu.auth0.com" must end with "/" (Auth0 issuers do): use "https://tenant.eu.auth0.com/"`},
		{"ALPHASWARM_ISSUER_URL", "http://tenant.eu.auth0.com/", `"http://tenant.eu.auth0.com/" must use https (http is for loopback hosts only): use "https://tenant.eu.auth0.com/"`},
		{"ALPHASWARM_ISSUER_URL", "http://tenant.eu.auth0.com?x=1", `"http://tenant.eu.auth0.com?x=1" must not have a query or fragment, must use https (http is for loopback hosts only), must end with "/" (Auth0 issuers do): use "https://tenant.eu.auth0.com/"`},
		{"ALPHASWARM_ISSUER_URL", "https:///", `"https:///" has no host: use https://HOST/ (http:// only for a loopback host)`},
		{"ALPHASWARM_DOCKER_URL", "/var/run/docker.sock", `"(unparseable, hidden)" is not a valid URL: use unix:///PATH, tcp://HOST:PORT or ssh://[USER@]HOST[:PORT]`},
		{"ALPHASWARM_DOCKER_URL", "npipe:////./pipe/docker_engine", `"npipe:////./pipe/docker_engine" has scheme "npipe": use unix:///PATH, tcp://HOST:PORT or ssh://[USER@]HOST[:PORT]`},
		{"ALPHASWARM_DOCKER_URL", "unix://var/run/docker.sock", `"unix://var/run/docker.sock" must name an absolute path after "unix://": use "unix:///var/run/docker.sock"`},
		{"ALPHASWARM_DOCKER_URL", "unix://", `"unix://" has no socket path: use unix:///PATH`},
		{"ALPHASWARM_DOCKER_URL", "tcp://10.0.0.5", `"tcp://10.0.0.5" has no port: use tcp://HOST:PORT`},
		{"ALPHASWARM_DOCKER_URL", "tcp://:2375", `"tcp://:2375" has no host: use tcp://HOST:PORT`},
		{"ALPHASWARM_DOCKER_URL", "tcp://10.0.0.5:2375?tls=1", `"tcp://10.0.0.5:2375?tls=1" must not have a query or fragment: use "tcp://10.0.0.5:2375"`},
		{"ALPHASWARM_DOCKER_URL", "ssh://deploy:hunter2@build", `"ssh://deploy:xxxxx@build" must not hold a password (use an ssh key): use "ssh://deploy@build"`},
		{"ALPHASWARM_KUBERNETES_URL", "k8s.example.com:6443", `"(unparseable, hidden)" is not a valid URL: use https://HOST[:PORT][/PATH] (http:// only for a loopback host)`},
		{"ALPHASWARM_KUBERNETES_URL", "http://k8s.example.com:6443", `"http://k8s.example.com:6443" must use https (http is for loopback hosts only): use "https://k8s.example.com:6443"`},
		{"ALPHASWARM_AWS_URL", "http://s3.amazonaws.com", `"http://s3.amazonaws.com" must use https (http is for loopback hosts only): use "https://s3.amazonaws.com"`},
		{"ALPHASWARM_AZURE_URL", "https://user:hunter2@blob.example.com/?sig=abc", `"https://user:xxxxx@blob.example.com/?sig=xxxxx" must not hold credentials, must not have a query or fragment: use "https://blob.example.com/"`},
		{"ALPHASWARM_GCP_URL", "gs://bucket", `"gs://bucket" has scheme "gs": use https://HOST[:PORT][/PATH] (http:// only for a loopback host)`},
		{"ALPHASWARM_GCP_URL", "https://" + strings.Repeat("a", 2041), `value is 2049 bytes long: use at most 2048`},
	}
	for _, tt := range tests {
		t.Run(tt.name+"="+tt.value[:min(len(tt.value), 40)], func(t *testing.T) {
			t.Parallel()
			s, err := Load(env(map[string]string{tt.name: tt.value}))
			if err == nil {
				t.Fatalf("no error; settings:\n%v", s)
			}
			if diff := cmp.Diff(tt.name+": "+tt.want, err.Error()); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadReportsEveryProblem(t *testing.T) {
	t.Parallel()
	_, err := Load(env(map[string]string{
		"ALPHASWARM_CONTROLLER_URL": "ftp://ctl",
		"ALPHASWARM_DATABASE_URL":   "postgres://swarm@db/swarm", // valid
		"ALPHASWARM_ISSUER_URL":     "https://tenant.eu.auth0.com",
		"ALPHASWARM_GCP_URL":        "http://storage.googleapis.com",
	}))
	want := strings.Join([]string{
		`ALPHASWARM_CONTROLLER_URL: "ftp://ctl" has scheme "ftp": use http://HOST[:PORT][/PATH] or https://HOST[:PORT][/PATH]`,
		`ALPHASWARM_ISSUER_URL: "https://tenant.eu.auth0.com" must end with "/" (Auth0 issuers do): use "https://tenant.eu.auth0.com/"`,
		`ALPHASWARM_GCP_URL: "http://storage.googleapis.com" must use https (http is for loopback hosts only): use "https://storage.googleapis.com"`,
	}, "\n")
	if err == nil {
		t.Fatal("no error")
	}
	if diff := cmp.Diff(want, err.Error()); diff != "" {
		t.Errorf("error (-want +got):\n%s", diff)
	}
	var joined interface{ Unwrap() []error }
	if !errors.As(err, &joined) || len(joined.Unwrap()) != 3 {
		t.Errorf("want three joined errors, got %#v", err)
	}
}

func TestWarnings(t *testing.T) {
	t.Parallel()
	tests := []struct{ controller, want string }{
		{"http://ctl.example.com:7373", `ALPHASWARM_CONTROLLER_URL: "http://ctl.example.com:7373" uses http to another host: access tokens would travel in clear text; use "https://ctl.example.com:7373"`},
		{"http://10.0.0.7:7373", `ALPHASWARM_CONTROLLER_URL: "http://10.0.0.7:7373" uses http to another host: access tokens would travel in clear text; use "https://10.0.0.7:7373"`},
		{"https://ctl.example.com", ""},
		{"http://localhost:7373", ""},
		{"http://LOCALHOST:7373", ""},
		{"http://127.0.0.2:7373", ""},
		{"http://[::1]:7373", ""},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.controller, func(t *testing.T) {
			t.Parallel()
			s, err := Load(env(map[string]string{"ALPHASWARM_CONTROLLER_URL": tt.controller}))
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			if tt.want != "" {
				want = []string{tt.want}
			}
			if diff := cmp.Diff(want, s.Warnings()); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
		})
	}
}

// TestNoSecretInOutput puts a secret everywhere a setting can hold one and
// looks for it in everything Load returns.
func TestNoSecretInOutput(t *testing.T) {
	t.Parallel()
	const secret = "hunter2"
	valid := map[string]string{
		"ALPHASWARM_CONTROLLER_URL": "http://ctl.example.com:7373",
		"ALPHASWARM_DATABASE_URL":   "postgres://swarm:hunter2@db/swarm?sslpassword=hunter2&Password=hunter2",
		"ALPHASWARM_DOCKER_URL":     "ssh://deploy@build.example.com",
	}
	invalid := map[string]string{
		"ALPHASWARM_CONTROLLER_URL": "http://admin:hunter2@ctl.example.com/?token=hunter2#access_token=hunter2",
		"ALPHASWARM_DATABASE_URL":   "host=db password=hunter2",
		"ALPHASWARM_ISSUER_URL":     "https://tenant.eu.auth0.com?client_secret=hunter2",
		"ALPHASWARM_DOCKER_URL":     "ssh://deploy:hunter2@build.example.com",
		"ALPHASWARM_KUBERNETES_URL": "https://k8s:hunter2/x@example.com",
		"ALPHASWARM_AWS_URL":        "http://u:hunter2@s3.amazonaws.com?X-Amz-Signature=hunter2",
		"ALPHASWARM_AZURE_URL":      "https://blob.example.com/?sig=hunter2&%zz=hunter2",
		"ALPHASWARM_GCP_URL":        "https://" + strings.Repeat("hunter2", 300),
	}
	s, err := Load(env(valid))
	if err != nil {
		t.Fatal(err)
	}
	out := fmt.Sprintf("%v %+v %#v %+v %v %v", s, *s, s, s.Entries(), s.Warnings(), Specs())
	if strings.Contains(out, secret) {
		t.Errorf("valid settings show the secret:\n%s", out)
	}
	if _, err = Load(env(invalid)); err == nil || strings.Contains(err.Error(), secret) {
		t.Errorf("the error shows the secret or is missing:\n%v", err)
	}
	if n := strings.Count(err.Error(), "\n") + 1; n != len(invalid) {
		t.Errorf("%d problems reported, want %d:\n%v", n, len(invalid), err)
	}
}
