package compose

import (
	"encoding/json"
	"maps"
	"os"
	"testing"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/sdk"
)

// TestStateKeepsExistingDeployments decodes a state blob as the plugin
// wrote it before the versioned state (testdata/legacy-state.json): its
// project, services, stopped counts and salt survive, so the replicas keep
// their config hashes. Encoded again, the blob holds what it held, plus a
// version: a plugin rolled back to an older release reads it the same.
func TestStateKeepsExistingDeployments(t *testing.T) {
	t.Parallel()
	legacy, err := os.ReadFile("testdata/legacy-state.json")
	if err != nil {
		t.Fatal(err)
	}
	st, err := decodeState(legacy, "as-acme-prod-shop")
	if err != nil {
		t.Fatalf("decode the legacy state: %v", err)
	}
	if st.Project != "as_acme_prod_shop" || st.Salt() != "00112233445566778899aabbccddeeff" || st.Stopped["worker"] != 2 || len(st.Services) != 3 {
		t.Fatalf("legacy state decoded as %+v", st)
	}
	p := (&Backend{cfg: config{ProjectPrefix: "as"}}).project(core.DeploymentRef{Tenant: "acme", Environment: "prod", Name: "shop"}, st)
	for service, want := range map[string]string{"api": pinnedWithSecrets, "db": pinnedPlain} {
		secrets := sdk.SecretValues{"shop/db": "hunter2", "shop/token": "t0ken\nwith a newline"}
		if got := configHash(p, st.Service(service), secrets, st.Salt()); got != want {
			t.Errorf("service %s: config hash %s from the legacy state, want %s", service, got, want)
		}
	}

	blob, err := stateFormat.Encode(*st, st.Salt())
	if err != nil {
		t.Fatal(err)
	}
	var before, after map[string]any
	if err := json.Unmarshal(legacy, &before); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(blob, &after); err != nil || after["version"] != float64(stateFormat.Version) {
		t.Fatalf("encoded state %s (%v), want version %d", blob, err, stateFormat.Version)
	}
	delete(after, "version")
	if !maps.EqualFunc(before, after, func(a, b any) bool { x, _ := json.Marshal(a); y, _ := json.Marshal(b); return string(x) == string(y) }) {
		t.Errorf("the state encoded again:\n%s\nwant what it held before:\n%s", blob, legacy)
	}
}
