package connectivity

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Spec describes one setting.
type Spec struct {
	Name        string
	Description string   // what it is for, and what empty means
	Schemes     []string // the schemes it accepts
	// LoopbackHTTPOnly says "http" is accepted only for a loopback host
	// (localhost, 127.0.0.0/8, ::1), for development.
	LoopbackHTTPOnly bool
	Sensitive        bool   // it may hold a password or token
	Default          string // the value when the variable is empty

	form          string                          // the expected form, for errors
	trailingSlash bool                            // the path must end with "/"
	field         func(*Settings) **url.URL       // where Load stores the value
	check         func(sp Spec, u *url.URL) error // checks past the scheme
}

// Specs lists the settings in the order Entries prints them.
func Specs() []Spec {
	out := slices.Clone(specs)
	for i := range out {
		out[i].Schemes = slices.Clone(out[i].Schemes)
	}
	return out
}

const (
	httpForm  = "https://HOST[:PORT][/PATH] (http:// only for a loopback host)"
	cloudDesc = " endpoint override for the cloud SDK; empty: the cloud's public endpoint"
)

var specs = []Spec{
	{
		Name:        "ALPHASWARM_CONTROLLER_URL",
		Description: "the swarmctl server API the CLI talks to",
		Schemes:     []string{"http", "https"},
		Default:     "http://127.0.0.1:7373",
		form:        "http://HOST[:PORT][/PATH] or https://HOST[:PORT][/PATH]",
		field:       func(s *Settings) **url.URL { return &s.Controller },
		check:       checkEndpoint,
	},
	{
		Name:        "ALPHASWARM_DATABASE_URL",
		Description: "the PostgreSQL database hosts share their state in; empty: the embedded SQLite",
		Schemes:     []string{"postgres", "postgresql"},
		Sensitive:   true,
		form:        "postgres://[USER[:PASSWORD]@]HOST[:PORT]/DATABASE[?PARAMS]",
		field:       func(s *Settings) **url.URL { return &s.Database },
		check:       checkDatabase,
	},
	{
		Name:             "ALPHASWARM_ISSUER_URL",
		Description:      "the OIDC issuer (Auth0 tenant) whose access tokens the host accepts, with its trailing slash; empty: none",
		Schemes:          []string{"https", "http"},
		LoopbackHTTPOnly: true,
		form:             "https://HOST/ (http:// only for a loopback host)",
		field:            func(s *Settings) **url.URL { return &s.Issuer },
		check:            checkEndpoint,
		trailingSlash:    true,
	},
	{
		Name:        "ALPHASWARM_DOCKER_URL",
		Description: "the Docker Engine the compose backend uses; empty: the engine's default (DOCKER_HOST, else its unix socket)",
		Schemes:     []string{"unix", "tcp", "ssh"},
		form:        "unix:///PATH, tcp://HOST:PORT or ssh://[USER@]HOST[:PORT]",
		field:       func(s *Settings) **url.URL { return &s.Docker },
		check:       checkDocker,
	},
	{
		Name:             "ALPHASWARM_KUBERNETES_URL",
		Description:      "the kube-apiserver the kubernetes backend uses; empty: the kubeconfig's",
		Schemes:          []string{"https", "http"},
		LoopbackHTTPOnly: true,
		form:             httpForm,
		field:            func(s *Settings) **url.URL { return &s.Kubernetes },
		check:            checkEndpoint,
	},
	{
		Name:             "ALPHASWARM_AWS_URL",
		Description:      "AWS" + cloudDesc,
		Schemes:          []string{"https", "http"},
		LoopbackHTTPOnly: true,
		form:             httpForm,
		field:            func(s *Settings) **url.URL { return &s.AWS },
		check:            checkEndpoint,
	},
	{
		Name:             "ALPHASWARM_AZURE_URL",
		Description:      "Azure" + cloudDesc,
		Schemes:          []string{"https", "http"},
		LoopbackHTTPOnly: true,
		form:             httpForm,
		field:            func(s *Settings) **url.URL { return &s.Azure },
		check:            checkEndpoint,
	},
	{
		Name:             "ALPHASWARM_GCP_URL",
		Description:      "GCP" + cloudDesc,
		Schemes:          []string{"https", "http"},
		LoopbackHTTPOnly: true,
		form:             httpForm,
		field:            func(s *Settings) **url.URL { return &s.GCP },
		check:            checkEndpoint,
	},
}

// checkEndpoint checks an http(s) URL: a host and a valid port, then no
// credentials, no query or fragment, http only where the spec allows it and
// the trailing slash where the spec needs it. It names every one of these
// problems at once, with the URL that fixes them all.
func checkEndpoint(sp Spec, u *url.URL) error {
	if u.Hostname() == "" {
		return errors.New("has no host: use " + sp.form)
	}
	if err := checkPort(u); err != nil {
		return err
	}
	var problems []string
	fix := *u
	if u.User != nil {
		problems = append(problems, "must not hold credentials")
		fix.User = nil
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		problems = append(problems, "must not have a query or fragment")
		dropQuery(&fix)
	}
	if sp.LoopbackHTTPOnly && u.Scheme == "http" && !isLoopback(u.Hostname()) {
		problems = append(problems, "must use https (http is for loopback hosts only)")
		fix.Scheme = "https"
	}
	if sp.trailingSlash && !strings.HasSuffix(u.Path, "/") {
		problems = append(problems, `must end with "/" (Auth0 issuers do)`)
		fix.Path, fix.RawPath = u.Path+"/", ""
	}
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("%s: use %q", strings.Join(problems, ", "), Redact(fix.String()))
}

// checkDatabase checks a PostgreSQL URL. The host may be empty (a unix
// socket named by ?host=).
func checkDatabase(sp Spec, u *url.URL) error {
	if u.Fragment != "" {
		return errors.New(`must not have a fragment: write a "#" in the password as %23`)
	}
	return checkPort(u)
}

// checkDocker checks a Docker Engine address.
func checkDocker(sp Spec, u *url.URL) error {
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return fmt.Errorf("must not have a query or fragment: use %q", fixed(u, dropQuery))
	}
	switch u.Scheme {
	case "unix":
		return checkSocket(u)
	case "tcp":
		return checkTCP(u)
	}
	return checkSSH(u)
}

func checkSocket(u *url.URL) error {
	switch {
	case u.User != nil:
		return fmt.Errorf("must not hold credentials: use %q", fixed(u, func(f *url.URL) { f.User = nil }))
	case u.Host != "":
		return fmt.Errorf("must name an absolute path after \"unix://\": use %q", Redact("unix:///"+u.Host+u.EscapedPath()))
	case u.Path == "":
		return errors.New("has no socket path: use unix:///PATH")
	}
	return nil
}

func checkTCP(u *url.URL) error {
	switch {
	case u.User != nil:
		return fmt.Errorf("must not hold credentials: use %q", fixed(u, func(f *url.URL) { f.User = nil }))
	case u.Hostname() == "":
		return errors.New("has no host: use tcp://HOST:PORT")
	case u.Port() == "":
		return errors.New("has no port: use tcp://HOST:PORT")
	}
	return checkPort(u)
}

func checkSSH(u *url.URL) error {
	if u.Hostname() == "" {
		return errors.New("has no host: use ssh://[USER@]HOST[:PORT]")
	}
	if _, ok := u.User.Password(); ok {
		return fmt.Errorf("must not hold a password (use an ssh key): use %q", fixed(u, func(f *url.URL) { f.User = url.User(f.User.Username()) }))
	}
	return checkPort(u)
}

// checkPort rejects ports out of 1-65535; url.Parse checks only the digits.
func checkPort(u *url.URL) error {
	p := u.Port()
	if p == "" {
		return nil
	}
	if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("has port %s: use a port from 1 to 65535", p)
	}
	return nil
}

// isLoopback reports whether host is localhost or a loopback address.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// fixed returns u with edit applied, redacted: the value an error suggests.
func fixed(u *url.URL, edit func(*url.URL)) string {
	f := *u
	edit(&f)
	return Redact(f.String())
}

func dropQuery(f *url.URL) {
	f.RawQuery, f.ForceQuery, f.Fragment, f.RawFragment = "", false, "", ""
}
