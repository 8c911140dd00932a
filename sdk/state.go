package sdk

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/alphaswarm/controller/core"
)

// The errors a StateError wraps: errors.Is(err, ErrStateCorrupt) holds for
// a blob that is not a state at all, errors.Is(err, ErrStateVersion) for a
// state this plugin cannot read.
var (
	ErrStateCorrupt = errors.New("state blob is corrupt")
	ErrStateVersion = errors.New("state blob is of another version")
)

// StateError says why a state blob could not be decoded. Err is
// ErrStateCorrupt or ErrStateVersion; Cause, when set, is the underlying
// error (a *json.SyntaxError, say). errors.Is and errors.As see both.
type StateError struct {
	Err   error
	Cause error
	// Found is the version the blob carries (0: unversioned), Want the
	// version the plugin writes; both are set for ErrStateVersion.
	Found, Want int
}

func (e *StateError) Error() string {
	switch {
	case errors.Is(e.Err, ErrStateVersion):
		return fmt.Sprintf("decode state: state blob has version %d, this plugin reads version %d", e.Found, e.Want)
	case e.Cause != nil:
		return fmt.Sprintf("decode state: %v: %v", e.Err, e.Cause)
	}
	return "decode state: " + e.Err.Error()
}

// Unwrap returns Err and Cause.
func (e *StateError) Unwrap() []error {
	if e.Cause == nil {
		return []error{e.Err}
	}
	return []error{e.Err, e.Cause}
}

// Salt is a deployment's random secret key, created with its first state
// and kept in its state blob. It keys HashSecrets, so that a hash of secret
// values stored where others can read it (a label, an annotation) reveals
// nothing about them. It is hexadecimal text.
type Salt string

// NewSalt returns 16 random bytes as hexadecimal text.
func NewSalt() (Salt, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate salt: %w", err)
	}
	return Salt(hex.EncodeToString(b)), nil
}

// SecretLayout is how HashSecrets feeds a service's secrets to the HMAC.
// The zero value, SecretsByRef, is the one for new plugins; each layout
// stays as it is for good, since a hash that changes makes a plugin replace
// the workload.
type SecretLayout int

const (
	// SecretsByRef writes "<ref>=<length>:<value>\n" for each secret
	// reference of the service, sorted by reference.
	SecretsByRef SecretLayout = iota
	// SecretsByEnv writes "<env>=<length>:<value>\x00" for each secret
	// variable, in the order the service declares them.
	SecretsByEnv
)

// HashSecrets returns the HMAC-SHA256, keyed by the salt, of the values
// (resolved by the host) of svc's secrets. It changes when a value changes
// and reveals nothing of them, so it can go into a config hash, a label or
// an annotation (hex.EncodeToString it). A secret the host did not resolve
// counts as empty. A service without secrets hashes the same whatever the
// values; leave the hash out for it if lost state must not matter.
func (s Salt) HashSecrets(svc *core.ServiceSpec, values SecretValues, layout SecretLayout) []byte {
	mac := hmac.New(sha256.New, []byte(s))
	switch layout {
	case SecretsByEnv:
		for _, r := range svc.SecretEnv {
			fmt.Fprintf(mac, "%s=%d:%s\x00", r.Env, len(values[r.Ref]), values[r.Ref])
		}
	default:
		refs := make([]string, 0, len(svc.SecretEnv))
		for _, r := range svc.SecretEnv {
			refs = append(refs, r.Ref)
		}
		slices.Sort(refs)
		for _, r := range refs {
			fmt.Fprintf(mac, "%s=%d:%s\n", r, len(values[r]), values[r])
		}
	}
	return mac.Sum(nil)
}

// Salted carries a deployment's salt. Embed it in a plugin's state type:
// StateFormat.Decode sets it, and st.Salt() reads it. It adds nothing to
// the state's JSON, since the state blob keeps the salt beside the state.
type Salted struct{ salt Salt }

// Salt returns the salt.
func (s Salted) Salt() Salt { return s.salt }

func (s *Salted) setSalt(salt Salt) { s.salt = salt }

// salter is a state type that embeds Salted.
type salter interface{ setSalt(Salt) }

// AppliedServices is what most backends keep in their state beside the
// salt: the services as last applied (with secret references, never
// values), which Plan, Status and Scale read when the request carries no
// spec, and the replica count of each stopped service, which Start
// restores. Embed it in the state type; its JSON members are "services" and
// "stopped".
type AppliedServices struct {
	Services []core.ServiceSpec `json:"services"`
	// Stopped maps a stopped service to the replica count Start restores.
	// It may be nil: read it freely, write it through SetStopped.
	Stopped map[string]int `json:"stopped,omitempty"`
}

// Service returns the last applied spec of a service, nil if none. It
// points into Services.
func (a *AppliedServices) Service(name string) *core.ServiceSpec {
	for i := range a.Services {
		if a.Services[i].Name == name {
			return &a.Services[i]
		}
	}
	return nil
}

// SetStopped records that service is stopped, and the replica count Start
// restores.
func (a *AppliedServices) SetStopped(service string, replicas int) {
	if a.Stopped == nil {
		a.Stopped = map[string]int{}
	}
	a.Stopped[service] = replicas
}

// StateFormat reads and writes a plugin's state blob: the JSON object of a
// T (a struct), with two more members, "version" and "salt":
//
//	{"version": 1, "salt": "9f86d0...", "services": [...], ...}
//
// A blob without "version" is version 0: the unversioned JSON object that a
// plugin stored before it used StateFormat. Decode reads it into T as it is
// (or hands it to Upgrade), so deployments made then keep working, and a
// plugin that adopts StateFormat without changing its state type keeps
// reading the blobs it wrote. T must not use the names "version" and "salt"
// for members of its own.
//
// Bump Version when T changes in a way an older plugin would misread, and
// set Upgrade to read the older blobs.
type StateFormat[T any] struct {
	// Version is the version Encode writes, 1 or more.
	Version int
	// Upgrade, when set, reads a blob of an older version (found, from 0)
	// into the current T. Without it, Decode reads an unversioned blob into
	// T as it is and refuses other older versions.
	Upgrade func(found int, blob []byte) (T, error)
}

// State is a decoded state blob.
type State[T any] struct {
	// Version is the version the blob was written with, 0 for an
	// unversioned one; a new deployment's state has the format's version.
	Version int
	// New says there was no blob: the deployment's first apply.
	New bool
	// Salted holds the blob's salt, or a new random one for a new state or
	// a blob without one.
	Salted
	// Value is the state; when T embeds Salted, Value.Salt() is the salt
	// too.
	Value T
}

// salted sets the salt of the state and of its value.
func (st *State[T]) salted(salt Salt) {
	st.salt = salt
	if v, ok := any(&st.Value).(salter); ok {
		v.setSalt(salt)
	}
}

// stateHeader is what StateFormat adds to T's members.
type stateHeader struct {
	Version *int `json:"version"`
	Salt    Salt `json:"salt"`
}

// Decode reads a blob. No blob (nil or empty) is a new deployment: a zero T
// and a new salt. A blob that is not a JSON object, or that does not fit T,
// fails with a *StateError wrapping ErrStateCorrupt; a blob of a newer
// version, or of an older one that the format cannot read, with a
// *StateError wrapping ErrStateVersion.
func (f StateFormat[T]) Decode(blob []byte) (State[T], error) {
	var st State[T]
	if len(bytes.TrimSpace(blob)) == 0 {
		salt, err := NewSalt()
		if err != nil {
			return State[T]{}, err
		}
		st.Version, st.New = f.Version, true
		st.salted(salt)
		return st, nil
	}
	var h stateHeader
	if !bytes.HasPrefix(bytes.TrimSpace(blob), []byte("{")) {
		return st, &StateError{Err: ErrStateCorrupt, Cause: errors.New("not a JSON object")}
	}
	if err := json.Unmarshal(blob, &h); err != nil {
		return st, &StateError{Err: ErrStateCorrupt, Cause: err}
	}
	if h.Version != nil {
		st.Version = *h.Version
	}
	var err error
	switch {
	case st.Version < 0:
		return State[T]{}, &StateError{Err: ErrStateCorrupt, Cause: fmt.Errorf("version %d", st.Version)}
	case st.Version == f.Version, st.Version == 0 && f.Upgrade == nil:
		err = json.Unmarshal(blob, &st.Value)
	case st.Version < f.Version && f.Upgrade != nil:
		st.Value, err = f.Upgrade(st.Version, blob)
	default:
		return State[T]{}, &StateError{Err: ErrStateVersion, Found: st.Version, Want: f.Version}
	}
	if err != nil {
		if se := (*StateError)(nil); errors.As(err, &se) {
			return State[T]{}, err
		}
		return State[T]{}, &StateError{Err: ErrStateCorrupt, Cause: err}
	}
	if h.Salt == "" {
		if h.Salt, err = NewSalt(); err != nil {
			return State[T]{}, err
		}
	}
	st.salted(h.Salt)
	return st, nil
}

// EncodeAfter encodes v for the response of an operation that ended with
// opErr: mutating operations return the state they reached even when they
// fail (a failed Apply still records what it created). It returns the blob,
// and opErr when set, else Encode's error.
func (f StateFormat[T]) EncodeAfter(opErr error, v T, salt Salt) ([]byte, error) {
	blob, err := f.Encode(v, salt)
	if opErr != nil {
		return blob, opErr
	}
	return blob, err
}

// Encode writes v with the format's version and salt. It fails when v does
// not encode as a JSON object, or has a member named "version" or "salt".
func (f StateFormat[T]) Encode(v T, salt Salt) ([]byte, error) {
	if f.Version < 1 {
		return nil, fmt.Errorf("encode state: format version %d: versions start at 1", f.Version)
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode state: %w", err)
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(raw, &members); err != nil || members == nil {
		return nil, fmt.Errorf("encode state: %T does not encode as a JSON object", v)
	}
	for _, name := range []string{"version", "salt"} {
		if _, ok := members[name]; ok {
			return nil, fmt.Errorf("encode state: %T has a member %q, which the state blob keeps for itself", v, name)
		}
	}
	members["version"], _ = json.Marshal(f.Version)
	members["salt"], _ = json.Marshal(salt)
	out, err := json.Marshal(members)
	if err != nil {
		return nil, fmt.Errorf("encode state: %w", err)
	}
	return out, nil
}
