package kubernetes

import "github.com/alphaswarm/controller/sdk"

// state is what the plugin keeps in the host's blob: the services as last
// applied (secret references only), the replica counts stop remembers, and
// the salt of the secrets hash. The cluster's labels and annotations hold
// the rest, so a lost state still lets status, logs and destroy work.
type state struct {
	sdk.Salted
	sdk.AppliedServices
	// Naming is how the deployment's objects are named (namingHashed for
	// deployments created since objects in a shared namespace carry a hash
	// of their deployment; 0 for those before, which keep their names).
	Naming int `json:"naming,omitempty"`
}

// namingHashed: in a shared namespace, object names end with a hash of
// tenant, environment and deployment.
const namingHashed = 2

// stateFormat is the state blob. Version 1 is version 0 (the unversioned
// blob from before) with a version.
var stateFormat = sdk.StateFormat[state]{Version: 1}

// decodeState reads a state blob; no blob is a new deployment's state.
// A state from before Naming was recorded says nothing of it: 0.
func decodeState(b []byte) (*state, error) {
	s, err := stateFormat.Decode(b)
	if err != nil {
		return nil, err
	}
	st := &s.Value
	if s.New {
		st.Naming = namingHashed
	}
	return st, nil
}

// blob encodes the state for the response of an operation that ended with
// opErr.
func (s *state) blob(opErr error) ([]byte, error) {
	return stateFormat.EncodeAfter(opErr, *s, s.Salt())
}
