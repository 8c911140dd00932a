package backendtest

import (
	"context"
	"encoding/json"
	"errors"
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
			var errs []sdk.Diagnostic
			for _, d := range resp.Diagnostics {
				if d.Severity == sdk.SeverityError {
					errs = append(errs, d)
				}
			}
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
