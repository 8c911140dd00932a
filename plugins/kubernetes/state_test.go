package kubernetes

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/sdk"
)

// TestStateKeepsExistingDeployments decodes state blobs as the plugin
// wrote them before the versioned state (testdata/legacy-state.json, and
// one from before naming was recorded): the deployment keeps its
// namespace, its pods their secrets hash. Encoded again, a blob is what it
// was, plus a version, so a plugin rolled back to an older release reads
// it the same.
func TestStateKeepsExistingDeployments(t *testing.T) {
	t.Parallel()
	recorded, err := os.ReadFile("testdata/legacy-state.json")
	if err != nil {
		t.Fatal(err)
	}
	ref := core.DeploymentRef{Tenant: "acme", Environment: "prod", Name: "shop"}
	secrets := sdk.SecretValues{"shop/db": "hunter2", "shop/token": "t0ken\x00with a NUL"}
	for _, tc := range []struct {
		name, blob string
		naming     int
		namespace  string
	}{
		{"a state that records its naming", string(bytes.TrimSpace(recorded)), namingHashed, NamespaceOf(ref)},
		{"a state from before naming was recorded",
			`{"services":[{"name":"api","image":"shop/api:1.2","secret_env":[{"env":"TOKEN","ref":"shop/token"},{"env":"DB_PASSWORD","ref":"shop/db"}],"replicas":3}],"salt":"00112233445566778899aabbccddeeff"}`,
			0, "acme-prod-shop"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st, err := decodeState([]byte(tc.blob))
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if st.Naming != tc.naming || st.Salt() != "00112233445566778899aabbccddeeff" {
				t.Errorf("decoded naming %d, salt %q; want %d and the blob's", st.Naming, st.Salt(), tc.naming)
			}
			if got := (&Backend{}).target(ref, st).namespace; got != tc.namespace {
				t.Errorf("namespace %s, want %s", got, tc.namespace)
			}
			if got := secretsHash(st.Salt(), st.Service("api"), secrets); got != pinnedSecrets {
				t.Errorf("secrets hash %s, want %s", got, pinnedSecrets)
			}
			blob, err := st.blob(nil)
			if err != nil {
				t.Fatal(err)
			}
			var members map[string]json.RawMessage
			if err := json.Unmarshal(blob, &members); err != nil || string(members["version"]) != "1" {
				t.Fatalf("encoded state %s (%v), want version 1", blob, err)
			}
			delete(members, "version")
			var want map[string]json.RawMessage
			json.Unmarshal([]byte(tc.blob), &want)
			if a, b := mustJSON(t, members), mustJSON(t, want); a != b {
				t.Errorf("the state encoded again:\n%s\nwant what it held before:\n%s", a, b)
			}
		})
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
