package compose

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
// project, services, stopped counts and salt survive, so the replicas keep
// their config hashes; encoded again, it is versioned, and a plugin from
// before reads it the same.
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
	if st.Project != "as_acme_prod_shop" || st.Salt() != "00112233445566778899aabbccddeeff" ||
		!cmp.Equal(st.Stopped, map[string]int{"worker": 2}) || len(st.Services) != 3 {
		t.Fatalf("legacy state decoded as %+v", st)
	}
	p := (&Backend{cfg: config{ProjectPrefix: "as"}}).project(core.DeploymentRef{Tenant: "acme", Environment: "prod", Name: "shop"}, st)
	for _, tc := range []struct {
		service string
		secrets sdk.SecretValues
		want    string
	}{
		{"api", sdk.SecretValues{"shop/db": "hunter2", "shop/token": "t0ken\nwith a newline"}, pinnedWithSecrets},
		{"db", nil, pinnedPlain},
	} {
		if got := configHash(p, st.Service(tc.service), tc.secrets, st.Salt()); got != tc.want {
			t.Errorf("service %s: config hash %s from the legacy state, want %s", tc.service, got, tc.want)
		}
	}

	blob, err := stateFormat.Encode(*st, st.Salt())
	if err != nil {
		t.Fatal(err)
	}
	var header struct {
		Version int `json:"version"`
	}
	if err := json.Unmarshal(blob, &header); err != nil || header.Version != stateFormat.Version {
		t.Errorf("encoded state %s: version %d (%v), want %d", blob, header.Version, err, stateFormat.Version)
	}
	again, err := decodeState(blob, "as-acme-prod-shop")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(st, again, cmpopts.EquateComparable(sdk.Salted{})); diff != "" || again.Salt() != st.Salt() {
		t.Errorf("state after a round trip (-before +after):\n%s", diff)
	}
	// The state as the plugin declared it before: what a plugin rolled back
	// to an older release reads from the new blob.
	var old struct {
		Services []core.ServiceSpec `json:"services"`
		Stopped  map[string]int     `json:"stopped,omitempty"`
		Salt     string             `json:"salt"`
		Project  string             `json:"project,omitempty"`
	}
	if err := json.Unmarshal(blob, &old); err != nil || old.Salt != string(st.Salt()) || old.Project != st.Project ||
		!cmp.Equal(old.Services, st.Services) || !cmp.Equal(old.Stopped, st.Stopped) {
		t.Errorf("an older plugin reads the new blob as %+v (%v)", old, err)
	}
}
