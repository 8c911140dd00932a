package kubernetes

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/alphaswarm/controller/core"
)

// state is what the plugin keeps in the host's blob: the services as last
// applied (secret references only), the replica counts stop remembers, and
// the salt of the secrets hash. The cluster's labels and annotations hold
// the rest, so a lost state still lets status, logs and destroy work.
type state struct {
	Services []core.ServiceSpec `json:"services"`
	Stopped  map[string]int     `json:"stopped,omitempty"`
	Salt     string             `json:"salt"`
	// Naming is how the deployment's objects are named (namingHashed for
	// deployments created since objects in a shared namespace carry a hash
	// of their deployment; 0 for those before, which keep their names).
	Naming int `json:"naming,omitempty"`
}

// namingHashed: in a shared namespace, object names end with a hash of
// tenant, environment and deployment.
const namingHashed = 2

// decodeState reads a state blob; no blob is a new deployment's state.
func decodeState(b []byte) (*state, error) {
	st := &state{Naming: namingHashed}
	if len(b) > 0 {
		st.Naming = 0 // a state from before Naming was recorded says nothing of it
		if err := json.Unmarshal(b, st); err != nil {
			return nil, fmt.Errorf("decode state: %w", err)
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
