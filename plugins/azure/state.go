package azure

import "github.com/alphaswarm/controller/sdk"

// state is what the plugin keeps in the host's blob: the services as last
// applied (secret references only), the replica counts stop remembers, and
// the salt of the secrets hash. The apps' tags hold the rest, so a lost
// state still lets status and destroy find the deployment.
type state struct {
	sdk.Salted
	sdk.AppliedServices
}

var stateFormat = sdk.StateFormat[state]{Version: 1}

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
