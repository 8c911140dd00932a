package aws

import "github.com/alphaswarm/controller/sdk"

// state is what the plugin keeps in the host's blob: the services as last
// applied (secret references only), and the salt keying the hash of the
// secret values. The tags on the AWS objects hold the rest, so that status
// and destroy work with a lost state too.
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

func (s *state) blob(opErr error) ([]byte, error) {
	return stateFormat.EncodeAfter(opErr, *s, s.Salt())
}
