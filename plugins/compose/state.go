package compose

import (
	"cmp"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/sdk"
)

// state is what the plugin keeps between calls, in the blob the host stores:
// the services as last applied (secret references only), what stop
// remembers, and the salt that keys the secret part of the config hash
// (random per deployment; it never leaves the state). The engine's labels
// hold the rest.
type state struct {
	sdk.Salted
	Services []core.ServiceSpec `json:"services"`
	// Stopped maps a stopped service to the replica count start restores.
	Stopped map[string]int `json:"stopped,omitempty"`
	// Project is the compose project the deployment was created in; a
	// state from before it was recorded means the legacy name.
	Project string `json:"project,omitempty"`
}

// stateFormat is the state blob. Version 1 is version 0 (the unversioned
// blob from before) with a version.
var stateFormat = sdk.StateFormat[state]{Version: 1}

// decodeState reads a state blob; legacy names the project of a state
// written before projects were recorded.
func decodeState(b []byte, legacy string) (*state, error) {
	s, err := stateFormat.Decode(b)
	if err != nil {
		return nil, err
	}
	st := &s.Value
	if !s.New && st.Project == "" {
		st.Project = legacy
	}
	if st.Stopped == nil {
		st.Stopped = map[string]int{}
	}
	return st, nil
}

// blob encodes the state for a response, after an operation that ended
// with opErr, which comes first.
func (s *state) blob(opErr error) ([]byte, error) {
	b, err := stateFormat.Encode(*s, s.Salt())
	return b, cmp.Or(opErr, err)
}

func (s *state) service(name string) *core.ServiceSpec {
	for i := range s.Services {
		if s.Services[i].Name == name {
			return &s.Services[i]
		}
	}
	return nil
}
