package kubernetes

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/sdk"
)

// TestStateKeepsExistingDeployments decodes a state blob as the plugin
// wrote it before the versioned state (testdata/legacy-state.json): its
// services, stopped counts, naming and salt survive, so its objects keep
// their names and its pods their secrets hash; encoded again, it is
// versioned, and a plugin from before reads it the same. A blob from
// before naming was recorded keeps the names of then.
func TestStateKeepsExistingDeployments(t *testing.T) {
	t.Parallel()
	legacy, err := os.ReadFile("testdata/legacy-state.json")
	if err != nil {
		t.Fatal(err)
	}
	st, err := decodeState(legacy)
	if err != nil {
		t.Fatalf("decode the legacy state: %v", err)
	}
	if st.Naming != namingHashed || st.Salt() != "00112233445566778899aabbccddeeff" ||
		!cmp.Equal(st.Stopped, map[string]int{"worker": 2}) || len(st.Services) != 2 {
		t.Fatalf("legacy state decoded as %+v", st)
	}
	secrets := sdk.SecretValues{"shop/db": "hunter2", "shop/token": "t0ken\x00with a NUL"}
	if got := secretsHash(st.Salt(), st.Service("api"), secrets); got != pinnedSecrets {
		t.Errorf("secrets hash %s from the legacy state, want %s", got, pinnedSecrets)
	}
	ref := core.DeploymentRef{Tenant: "acme", Environment: "prod", Name: "shop"}
	if got, want := (&Backend{}).target(ref, st).namespace, NamespaceOf(ref); got != want {
		t.Errorf("namespace %s from the legacy state, want %s", got, want)
	}
	unnamed, err := decodeState([]byte(`{"services":[],"salt":"ab"}`))
	if err != nil || unnamed.Naming != 0 || (&Backend{}).target(ref, unnamed).namespace != "acme-prod-shop" {
		t.Errorf("a state from before naming was recorded: %+v (%v), want naming 0 and namespace acme-prod-shop", unnamed, err)
	}

	blob, err := st.blob(nil)
	if err != nil {
		t.Fatal(err)
	}
	var header struct {
		Version int `json:"version"`
	}
	if err := json.Unmarshal(blob, &header); err != nil || header.Version != stateFormat.Version {
		t.Errorf("encoded state %s: version %d (%v), want %d", blob, header.Version, err, stateFormat.Version)
	}
	again, err := decodeState(blob)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(st, again, cmpopts.EquateComparable(sdk.Salted{})); diff != "" {
		t.Errorf("state after a round trip (-before +after):\n%s", diff)
	}
	// The state as the plugin declared it before: what a plugin rolled back
	// to an older release reads from the new blob.
	var old struct {
		Services []core.ServiceSpec `json:"services"`
		Stopped  map[string]int     `json:"stopped,omitempty"`
		Salt     string             `json:"salt"`
		Naming   int                `json:"naming,omitempty"`
	}
	if err := json.Unmarshal(blob, &old); err != nil || old.Salt != string(st.Salt()) || old.Naming != st.Naming ||
		!cmp.Equal(old.Services, st.Services) || !cmp.Equal(old.Stopped, st.Stopped) {
		t.Errorf("an older plugin reads the new blob as %+v (%v)", old, err)
	}
}
