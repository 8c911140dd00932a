package backendtest

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/alphaswarm/controller/sdk"
	"github.com/alphaswarm/controller/sdk/pluginhost"
)

// ConfigCase is a configuration for CheckConfigs and what the backend's
// offline check must say of it.
type ConfigCase struct {
	Name   string
	Config json.RawMessage
	// Unknown lists the attributes whose values are placeholders, as for a
	// credential the host has not resolved.
	Unknown sdk.Unknown
	// ErrorPath is the attribute of the one error ValidateConfig must
	// report; empty: it reports no error.
	ErrorPath string
}

// CheckConfigs checks a backend's offline configuration checks
// (sdk.ConfigValidator) on processes from connect that are never
// configured: the backend must declare offline validation, and
// ValidateConfig must report for each case exactly the error it names, or
// none. Where a case names an error and nothing is unknown, Configure on a
// fresh process must refuse the configuration with the same
// InvalidConfigError: what validate accepts and refuses is what Configure
// does, which sharing one function between the two gives. Configurations
// without an error are not configured, so no backend needs to be reachable.
func CheckConfigs(t *testing.T, connect func(*testing.T) *pluginhost.Client, cases []ConfigCase) {
	t.Helper()
	if c := connect(t); !c.Info().OfflineValidation {
		t.Fatalf("backend %q does not declare offline validation: implement sdk.ConfigValidator", c.Info().Name)
	}
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			resp, err := connect(t).ValidateConfig(ctx, &sdk.ValidateConfigRequest{Instance: "offline", Config: tc.Config, Unknown: tc.Unknown})
			if err != nil {
				t.Fatalf("validate config %s: %v", tc.Config, err)
			}
			errs := errorDiagnostics(resp.Diagnostics)
			switch {
			case tc.ErrorPath == "" && len(errs) > 0:
				t.Fatalf("validate config %s: %+v, want no error", tc.Config, errs)
			case tc.ErrorPath == "":
				return
			case len(errs) != 1 || errs[0].Path != tc.ErrorPath:
				t.Fatalf("validate config %s: %+v, want one error at %s", tc.Config, errs, tc.ErrorPath)
			case len(tc.Unknown) > 0:
				return
			}
			_, err = connect(t).Configure(ctx, &sdk.ConfigureRequest{Instance: "offline", Config: tc.Config})
			var invalid *sdk.InvalidConfigError
			if !errors.As(err, &invalid) || invalid.Path != tc.ErrorPath || invalid.Message != errs[0].Summary {
				t.Errorf("configure %s: %v\nwant the error ValidateConfig reports: %s: %s", tc.Config, err, tc.ErrorPath, errs[0].Summary)
			}
		})
	}
}

// testValidatesOffline checks, on a process that was never configured,
// that ValidateConfig accepts Harness.Config and refuses Harness.BadConfig
// at BadConfigPath, and that Validate with Harness.Config accepts a valid
// deployment and refuses a bad one: swarmctl validate asks exactly this of
// a plugin, with no credentials and no backend to reach. A backend that
// does not declare offline validation gets the host's warning instead.
func (s *suite) testValidatesOffline(t *testing.T) {
	c := s.h.Connect(t)
	ctx, cancel := context.WithTimeout(context.Background(), s.h.Timeout)
	defer cancel()
	resp, err := c.ValidateConfig(ctx, &sdk.ValidateConfigRequest{Instance: "offline", Config: s.h.Config})
	if err != nil {
		t.Fatalf("validate Harness.Config on a process never configured: %v", err)
	}
	if !c.Info().OfflineValidation {
		if len(resp.Diagnostics) != 1 || resp.Diagnostics[0].Summary != pluginhost.SkippedSummary {
			t.Errorf("validate config without offline validation: %+v, want the host's warning", resp.Diagnostics)
		}
		return
	}
	if errs := errorDiagnostics(resp.Diagnostics); len(errs) > 0 {
		t.Errorf("validate Harness.Config on a process never configured: %+v, want no error", errs)
	}
	if s.h.BadConfig != nil {
		resp, err := c.ValidateConfig(ctx, &sdk.ValidateConfigRequest{Instance: "offline", Config: s.h.BadConfig})
		if err != nil {
			t.Fatalf("validate Harness.BadConfig on a process never configured: %v", err)
		}
		if errs := errorDiagnostics(resp.Diagnostics); len(errs) != 1 || errs[0].Path != s.h.BadConfigPath {
			t.Errorf("validate Harness.BadConfig offline: %+v, want one error at %q", errs, s.h.BadConfigPath)
		}
	}
	d := s.newDeployment(t, map[string]int{"web": 1})
	vresp, err := c.Validate(ctx, &sdk.ValidateRequest{Deployment: d.spec, Instance: "offline", Config: s.h.Config})
	if err != nil {
		t.Fatalf("validate a deployment on a process never configured: %v", err)
	}
	if errs := errorDiagnostics(vresp.Diagnostics); len(errs) > 0 {
		t.Errorf("validate a valid deployment offline: %+v, want no error", errs)
	}
	d.spec.Services[0].Replicas = -1
	vresp, err = c.Validate(ctx, &sdk.ValidateRequest{Deployment: d.spec, Instance: "offline", Config: s.h.Config})
	if err != nil {
		t.Fatalf("validate a deployment on a process never configured: %v", err)
	}
	if errs := errorDiagnostics(vresp.Diagnostics); !slices.ContainsFunc(errs, func(d sdk.Diagnostic) bool { return d.Path == "service.web.replicas" }) {
		t.Errorf("validate replicas -1 offline: %+v, want an error at service.web.replicas", vresp.Diagnostics)
	}
}

// errorDiagnostics returns the errors among ds.
func errorDiagnostics(ds []sdk.Diagnostic) []sdk.Diagnostic {
	var errs []sdk.Diagnostic
	for _, d := range ds {
		if d.Severity == sdk.SeverityError {
			errs = append(errs, d)
		}
	}
	return errs
}
