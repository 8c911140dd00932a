package gcp

import "github.com/alphaswarm/controller/sdk"

// state is what the plugin keeps in the host's blob: the services as last
// applied (secret references only), the instance counts stop remembers,
// the salt of the secrets' hashes, and the invoker bindings apply found and
// keeps. The services' labels and annotations hold the rest, so a lost
// state still lets plan, status and destroy work.
type state struct {
	sdk.Salted
	sdk.AppliedServices
	// InvokersKept are the services on which an account held
	// roles/run.invoker before apply managed that grant (an operator's
	// binding), by service: apply never removes those.
	InvokersKept map[string]string `json:"invokers_kept,omitempty"`
}

var stateFormat = sdk.StateFormat[state]{Version: 1}

// decodeState reads a state blob; no blob is a new deployment's state.
func decodeState(b []byte) (*state, error) {
	s, err := stateFormat.Decode(b)
	if err != nil {
		return nil, err
	}
	return &s.Value, nil
}

// blob encodes the state for the response of an operation that ended with
// opErr.
func (s *state) blob(opErr error) ([]byte, error) {
	return stateFormat.EncodeAfter(opErr, *s, s.Salt())
}
