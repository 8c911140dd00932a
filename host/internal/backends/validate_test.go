package backends

import (
	"context"
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"
)

// countingStore is a secret store that counts its lookups and has no
// secret: Bind must not consult it.
type countingStore struct{ lookups atomic.Int32 }

func (s *countingStore) Lookup(context.Context, string) (string, error) {
	s.lookups.Add(1)
	return "", nil
}

func (s *countingStore) LookupTenant(context.Context, string, string) (string, error) {
	s.lookups.Add(1)
	return "", nil
}

// TestBindHasThePluginCheckConfigurationsOffline binds configurations the
// memory plugin's schema accepts but its own checks (ValidateConfig) do
// not, and the faulty plugin's for a nested block: each is an error at its
// line, naming the attribute. A credential is an unknown value: the plugin
// does not check it, and the secret store is not consulted.
func TestBindHasThePluginCheckConfigurationsOffline(t *testing.T) {
	t.Parallel()
	m := plugins(t)
	for _, tc := range []struct {
		name, config string
		want         []string // in the error; none: Bind succeeds
	}{
		{"a bad duration", `latency = "soon"`,
			[]string{`test.hcl:3,15-21: Invalid backend configuration: The memory plugin rejects latency: "soon" is not a duration`}},
		{"a bad value in a nested block", "fault {\n      op   = \"apply\"\n      kind = \"explode\"\n    }",
			[]string{"test.hcl:5,14-23: Invalid backend configuration", `The faulty plugin rejects fault[0].kind: "explode" must be error, unavailable, crash or hang`}},
		{"a good configuration", `latency = "5ms"`, nil},
		{"a credential is unknown, and not checked", `latency = credential("sim/latency")`, nil},
		{"a credential in a nested block", "fault {\n      op   = \"apply\"\n      kind = credential(\"sim/kind\")\n    }", nil},
		{"a credential beside a bad value", "log_interval = credential(\"sim/every\")\n    latency = \"soon\"",
			[]string{`test.hcl:4,15-21: Invalid backend configuration: The memory plugin rejects latency`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			store := &countingStore{}
			plugin := "memory"
			if strings.HasPrefix(tc.config, "fault") {
				plugin = "faulty" // the memory backend with fault blocks
			}
			src := "backend \"" + plugin + "\" \"sim\" {\n  config {\n    " + tc.config + "\n  }\n}\n"
			_, err := Open(context.Background(), src, "test.hcl", store, m)
			switch {
			case len(tc.want) == 0 && err != nil:
				t.Errorf("bind: %v", err)
			case len(tc.want) > 0 && err == nil:
				t.Errorf("bind succeeded, want an error containing %q", tc.want)
			}
			for _, want := range tc.want {
				if err != nil && !strings.Contains(err.Error(), want) {
					t.Errorf("error %v\nwant one containing %q", err, want)
				}
			}
			if n := store.lookups.Load(); n != 0 {
				t.Errorf("bind looked up %d secrets", n)
			}
		})
	}
}

func TestWithUnknownsReplacesEachCredential(t *testing.T) {
	t.Parallel()
	r := New(nil)
	config, _ := json.Marshal(map[string]any{"a": r.marker + "x", "b": "plain", "c": map[string]any{"d": r.marker + "y"},
		"e": []any{map[string]any{"f": r.marker + "z"}}, "g": nil})
	out, unknown, err := r.withUnknowns(config)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(unknown, " "), "a c.d e[0].f"; got != want {
		t.Errorf("unknown %q, want %q", got, want)
	}
	if strings.Contains(string(out), "credential-") || strings.Count(string(out), unknownValue) != 3 || !strings.Contains(string(out), `"b":"plain"`) {
		t.Errorf("configuration %s", out)
	}
}
