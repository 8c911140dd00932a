package compose

import "github.com/alphaswarm/controller/sdk"

// state is what the plugin keeps between calls, in the blob the host stores:
// the services as last applied and what stop remembers, the salt that keys
// the secret part of the config hash (random per deployment; it never
// leaves the state), and the project. The engine's labels hold the rest.
type state struct {
	sdk.Salted
	sdk.AppliedServices
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
	return st, nil
}
