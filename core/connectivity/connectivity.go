// Package connectivity reads the ALPHASWARM_*_URL settings: where swarmctl
// finds the controller's API, where the host keeps its state, which token
// issuer it trusts, and where the backends find the Docker Engine, the
// kube-apiserver and the clouds' endpoints. Specs describes each setting;
// Load checks them all and reports every problem at once; Entries and
// Redact show the values without their passwords or tokens.
package connectivity

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// MaxValueBytes bounds the value of one setting.
const MaxValueBytes = 2048

// Sources of a setting's value.
const (
	SourceEnv     = "env"
	SourceDefault = "default"
)

// Setting is one effective setting, ready to print: Value is redacted.
type Setting struct {
	Name        string `json:"name"`
	Value       string `json:"value"`
	Description string `json:"description"`
	Source      string `json:"source"` // SourceEnv or SourceDefault
	Sensitive   bool   `json:"sensitive"`
}

// Settings are the validated settings. A nil URL means the setting is empty
// and its default applies, as its Spec describes. Database holds its
// password: print Entries, never the URL.
type Settings struct {
	Controller *url.URL // never nil
	Database   *url.URL // nil: the embedded SQLite
	Issuer     *url.URL // nil: no issuer configured
	Docker     *url.URL // nil: the engine's default
	Kubernetes *url.URL // nil: from the kubeconfig
	AWS        *url.URL // nil: the cloud's public endpoint
	Azure      *url.URL // nil: the cloud's public endpoint
	GCP        *url.URL // nil: the cloud's public endpoint

	entries  []Setting
	warnings []string
}

// Load reads every setting with getenv (os.Getenv outside tests) and checks
// it. The error joins one problem per invalid variable, each naming the
// variable, its redacted value and what is expected.
func Load(getenv func(string) string) (*Settings, error) {
	s := &Settings{}
	var errs []error
	for _, sp := range specs {
		u, entry, err := sp.load(getenv(sp.Name))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		*sp.field(s) = u
		s.entries = append(s.entries, entry)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	s.warnings = warnings(s)
	return s, nil
}

// Entries lists the settings in the order of Specs, values redacted.
func (s *Settings) Entries() []Setting {
	return slices.Clone(s.entries)
}

// Warnings lists valid but risky settings, such as a controller reached
// over plain http from another host.
func (s *Settings) Warnings() []string {
	return slices.Clone(s.warnings)
}

// String lists the settings as NAME=value lines, redacted, so that printing
// a Settings with %v never shows a secret.
func (s Settings) String() string {
	lines := make([]string, len(s.entries))
	for i, e := range s.entries {
		lines[i] = e.Name + "=" + e.Value
	}
	return strings.Join(lines, "\n")
}

// GoString is String, for %#v.
func (s Settings) GoString() string {
	return s.String()
}

// load checks one raw value against its spec; an empty value takes the
// default.
func (sp Spec) load(raw string) (*url.URL, Setting, error) {
	entry := Setting{Name: sp.Name, Description: sp.Description, Source: SourceEnv, Sensitive: sp.Sensitive}
	if raw == "" {
		entry.Source, raw = SourceDefault, sp.Default
	}
	if len(raw) > MaxValueBytes {
		return nil, entry, fmt.Errorf("%s: value is %d bytes long: use at most %d", sp.Name, len(raw), MaxValueBytes)
	}
	entry.Value = Redact(raw)
	if raw == "" {
		return nil, entry, nil
	}
	u, err := sp.parse(raw)
	if err != nil {
		return nil, entry, fmt.Errorf("%s: %q %w", sp.Name, entry.Value, err)
	}
	return u, entry, nil
}

// parse parses raw as an absolute URL of one of the spec's schemes and runs
// the spec's checks. Its errors never quote raw.
func (sp Spec) parse(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Opaque != "" {
		return nil, errors.New("is not a valid URL: use " + sp.form)
	}
	if !slices.Contains(sp.Schemes, u.Scheme) {
		return nil, fmt.Errorf("has scheme %q: use %s", u.Scheme, sp.form)
	}
	if err := sp.check(sp, u); err != nil {
		return nil, err
	}
	return u, nil
}

// warnings lists the risks of valid settings.
func warnings(s *Settings) []string {
	var w []string
	if c := s.Controller; c.Scheme == "http" && !isLoopback(c.Hostname()) {
		w = append(w, fmt.Sprintf("ALPHASWARM_CONTROLLER_URL: %q uses http to another host: access tokens would travel in clear text; use %q",
			Redact(c.String()), fixed(c, func(f *url.URL) { f.Scheme = "https" })))
	}
	return w
}
