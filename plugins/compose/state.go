package compose

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/alphaswarm/controller/core"
)

// state is what the plugin keeps between calls, in the blob the host stores:
// the services as last applied (secret references only) and what stop
// remembers. The engine's labels hold the rest.
type state struct {
	Services []core.ServiceSpec `json:"services"`
	// Stopped maps a stopped service to the replica count start restores.
	Stopped map[string]int `json:"stopped,omitempty"`
	// Salt keys the secret part of the config hash; it is random per
	// deployment and never leaves the state.
	Salt string `json:"salt"`
	// Project is the compose project the deployment was created in; a
	// state from before it was recorded means the legacy name.
	Project string `json:"project,omitempty"`
}

// decodeState reads a state blob; legacy names the project of a state
// written before projects were recorded.
func decodeState(b []byte, legacy string) (*state, error) {
	st := &state{}
	if len(b) > 0 {
		if err := json.Unmarshal(b, st); err != nil {
			return nil, fmt.Errorf("decode state: %w", err)
		}
		if st.Project == "" {
			st.Project = legacy
		}
	}
	if st.Salt == "" {
		salt := make([]byte, 16)
		if _, err := rand.Read(salt); err != nil {
			return nil, fmt.Errorf("generate salt: %w", err)
		}
		st.Salt = hex.EncodeToString(salt)
	}
	if st.Stopped == nil {
		st.Stopped = map[string]int{}
	}
	return st, nil
}

func (s *state) encode() []byte {
	b, _ := json.Marshal(s)
	return b
}

func (s *state) service(name string) *core.ServiceSpec {
	for i := range s.Services {
		if s.Services[i].Name == name {
			return &s.Services[i]
		}
	}
	return nil
}
