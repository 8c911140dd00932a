package compose

import (
	"testing"

	"github.com/alphaswarm/controller/core"
)

// TestProjectNames names projects: '_' joins the parts of a new one, so
// deployments whose parts join alike with '-' stay apart; a state keeps
// the project it was created in, and a state from before projects were
// recorded keeps the legacy name.
func TestProjectNames(t *testing.T) {
	t.Parallel()
	b := &Backend{cfg: config{ProjectPrefix: "as"}}
	ab := core.DeploymentRef{Tenant: "a", Environment: "b-c", Name: "x"}
	abc := core.DeploymentRef{Tenant: "a-b", Environment: "c", Name: "x"}
	if b.project(ab, nil).name == b.project(abc, nil).name {
		t.Errorf("two deployments share project %s", b.project(ab, nil).name)
	}
	legacy, err := decodeState([]byte(`{"services":[],"salt":"s"}`), b.legacyProject(ab))
	if err != nil {
		t.Fatal(err)
	}
	recorded, err := decodeState([]byte(`{"salt":"s","project":"as_a_b-c_x"}`), b.legacyProject(ab))
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := decodeState(nil, b.legacyProject(ab))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		st   *state
		want string
	}{
		{"no state", nil, "as_a_b-c_x"},
		{"a fresh state", fresh, "as_a_b-c_x"},
		{"a state that names it", recorded, "as_a_b-c_x"},
		{"a state from before projects were recorded", legacy, "as-a-b-c-x"},
	} {
		if got := b.project(ab, tc.st).name; got != tc.want {
			t.Errorf("%s: project %q, want %q", tc.name, got, tc.want)
		}
	}
}
