package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/alphaswarm/controller/core/connectivity"
)

// secretSettings are the variables config shows only as set or not set.
var secretSettings = []struct{ name, description string }{
	{"ALPHASWARM_TOKEN", "the access token swarmctl sends to the controller"},
	{"ALPHASWARM_STATE_KEYS", "the keys that encrypt secrets in the state store (comma-separated, base64 of 32 bytes)"},
}

func runConfig(e env, args []string) int {
	fs := newFlags(e, "config", "config [-json]")
	asJSON := fs.Bool("json", false, "print as JSON")
	if _, code, ok := fs.parse(args); !ok {
		return code
	}
	s, err := connectivity.Load(os.Getenv)
	if err != nil {
		for _, line := range strings.Split(err.Error(), "\n") {
			e.errorf("%s", line)
		}
		return exitError
	}
	for _, w := range s.Warnings() {
		fmt.Fprintf(e.stderr, "Warning: %s\n", w)
	}
	entries := append(s.Entries(), presence(os.Getenv)...)
	if *asJSON {
		out, _ := json.MarshalIndent(entries, "", "  ")
		fmt.Fprintln(e.stdout, string(out))
		return exitOK
	}
	for _, en := range entries {
		fmt.Fprintf(e.stdout, "%s=%s  # %s\n", en.Name, en.Value, en.Source)
	}
	return exitOK
}

// presence describes the secretSettings by whether they are set, never by
// their values.
func presence(getenv func(string) string) []connectivity.Setting {
	out := make([]connectivity.Setting, len(secretSettings))
	for i, v := range secretSettings {
		out[i] = connectivity.Setting{Name: v.name, Value: "(not set)", Description: v.description, Source: connectivity.SourceDefault, Sensitive: true}
		if getenv(v.name) != "" {
			out[i].Value, out[i].Source = "(set)", connectivity.SourceEnv
		}
	}
	return out
}
