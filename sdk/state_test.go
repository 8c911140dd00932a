package sdk

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/alphaswarm/controller/core"
)

// testState is a plugin's state as it would declare it.
type testState struct {
	Salted
	Services []string       `json:"services"`
	Stopped  map[string]int `json:"stopped,omitempty"`
}

var testFormat = StateFormat[testState]{Version: 2}

func TestStateDecode(t *testing.T) {
	t.Parallel()
	upgrading := StateFormat[testState]{Version: 3, Upgrade: func(found int, blob []byte) (testState, error) {
		var old struct {
			Names string `json:"names"`
		}
		if err := json.Unmarshal(blob, &old); err != nil {
			return testState{}, err
		}
		return testState{Services: strings.Split(old.Names, ",")}, nil
	}}
	for _, tc := range []struct {
		name   string
		format StateFormat[testState]
		blob   string
		want   State[testState] // Salted compared apart
		salt   Salt             // "" for a new random one
		err    error
		errMsg string
	}{
		{name: "no blob", format: testFormat, blob: "",
			want: State[testState]{Version: 2, New: true}},
		{name: "blank blob", format: testFormat, blob: " \n",
			want: State[testState]{Version: 2, New: true}},
		{name: "the current version", format: testFormat, blob: `{"version":2,"salt":"abcd","services":["api"],"stopped":{"api":2}}`,
			want: State[testState]{Version: 2, Value: testState{Services: []string{"api"}, Stopped: map[string]int{"api": 2}}}, salt: "abcd"},
		{name: "an unversioned blob, as plugins wrote before", format: testFormat, blob: `{"services":["api","db"],"salt":"0123"}`,
			want: State[testState]{Version: 0, Value: testState{Services: []string{"api", "db"}}}, salt: "0123"},
		{name: "an unversioned blob without a salt", format: testFormat, blob: `{"services":["api"]}`,
			want: State[testState]{Version: 0, Value: testState{Services: []string{"api"}}}},
		{name: "an older version, upgraded", format: upgrading, blob: `{"version":1,"salt":"ff","names":"a,b"}`,
			want: State[testState]{Version: 1, Value: testState{Services: []string{"a", "b"}}}, salt: "ff"},
		{name: "an unversioned blob, upgraded", format: upgrading, blob: `{"names":"c"}`,
			want: State[testState]{Version: 0, Value: testState{Services: []string{"c"}}}},
		{name: "a newer version", format: testFormat, blob: `{"version":3,"salt":"ab","services":[]}`,
			err: ErrStateVersion, errMsg: "decode state: state blob has version 3, this plugin reads version 2"},
		{name: "an older version without an upgrade", format: testFormat, blob: `{"version":1,"salt":"ab"}`,
			err: ErrStateVersion, errMsg: "decode state: state blob has version 1, this plugin reads version 2"},
		{name: "not JSON", format: testFormat, blob: `{"services":`,
			err: ErrStateCorrupt, errMsg: "decode state: state blob is corrupt: unexpected end of JSON input"},
		{name: "not an object", format: testFormat, blob: `["api"]`,
			err: ErrStateCorrupt, errMsg: "decode state: state blob is corrupt: not a JSON object"},
		{name: "null", format: testFormat, blob: `null`,
			err: ErrStateCorrupt, errMsg: "decode state: state blob is corrupt: not a JSON object"},
		{name: "a version that is not a number", format: testFormat, blob: `{"version":"2"}`,
			err: ErrStateCorrupt},
		{name: "a negative version", format: testFormat, blob: `{"version":-1}`,
			err: ErrStateCorrupt, errMsg: "decode state: state blob is corrupt: version -1"},
		{name: "a member of the wrong type", format: testFormat, blob: `{"version":2,"services":"api"}`,
			err: ErrStateCorrupt},
		{name: "an upgrade that fails", format: upgrading, blob: `{"version":1,"names":7}`,
			err: ErrStateCorrupt},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := tc.format.Decode([]byte(tc.blob))
			if tc.err != nil {
				var se *StateError
				if !errors.Is(err, tc.err) || !errors.As(err, &se) {
					t.Fatalf("decode %s: %v, want a *StateError wrapping %v", tc.blob, err, tc.err)
				}
				if tc.errMsg != "" && err.Error() != tc.errMsg {
					t.Errorf("error %q, want %q", err, tc.errMsg)
				}
				return
			}
			if err != nil {
				t.Fatalf("decode %s: %v", tc.blob, err)
			}
			if got.Value.Salt() != got.Salt() {
				t.Errorf("the state's embedded salt %q, want the blob's %q", got.Value.Salt(), got.Salt())
			}
			if tc.salt != "" && got.Salt() != tc.salt {
				t.Errorf("salt %q, want %q", got.Salt(), tc.salt)
			}
			if _, err := hex.DecodeString(string(got.Salt())); tc.salt == "" && (err != nil || len(got.Salt()) != 32) {
				t.Errorf("new salt %q, want 32 hexadecimal digits", got.Salt())
			}
			if diff := cmp.Diff(tc.want, got, cmp.Comparer(func(a, b Salted) bool { return true })); diff != "" {
				t.Errorf("decoded state (-want +got):\n%s", diff)
			}
		})
	}
}

func TestStateErrorsUnwrapToTheirCause(t *testing.T) {
	t.Parallel()
	_, err := testFormat.Decode([]byte(`{"services": [}`))
	var syntax *json.SyntaxError
	if !errors.As(err, &syntax) || !errors.Is(err, ErrStateCorrupt) || errors.Is(err, ErrStateVersion) {
		t.Errorf("decode of broken JSON: %v, want ErrStateCorrupt with its *json.SyntaxError", err)
	}
	var se *StateError
	_, err = testFormat.Decode([]byte(`{"version": 7}`))
	if !errors.As(err, &se) || se.Found != 7 || se.Want != 2 || errors.Is(err, ErrStateCorrupt) {
		t.Errorf("decode of version 7: %#v, want found 7, want 2", err)
	}
	wrapped := fmt.Errorf("status: %w", err)
	if !errors.Is(wrapped, ErrStateVersion) {
		t.Errorf("a wrapped StateError no longer matches ErrStateVersion")
	}
}

func TestStateEncode(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		v    any
		want string
		err  string
	}{
		{name: "a state", v: testState{Services: []string{"api"}}, want: `{"salt":"s1","services":["api"],"version":2}`},
		{name: "a state with its salt embedded", v: testState{Salted: Salted{salt: "other"}, Services: []string{}}, want: `{"salt":"s1","services":[],"version":2}`},
		{name: "a state that is not an object", v: []string{"api"}, err: "encode state: []string does not encode as a JSON object"},
		{name: "a state that is null", v: (*testState)(nil), err: "encode state: *sdk.testState does not encode as a JSON object"},
		{name: "a state with a member named version", v: map[string]int{"version": 1}, err: `encode state: map[string]int has a member "version", which the state blob keeps for itself`},
		{name: "a state with a member named salt", v: struct {
			Salt string `json:"salt"`
		}{"x"}, err: `has a member "salt"`},
		{name: "a state JSON cannot encode", v: map[string]any{"f": func() {}}, err: "encode state: json: unsupported type: func()"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := StateFormat[any]{Version: 2}.Encode(tc.v, "s1")
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Errorf("encode: %v, want an error containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, string(got)); diff != "" {
				t.Errorf("blob (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := (StateFormat[testState]{}).Encode(testState{}, "s"); err == nil {
		t.Errorf("a format of version 0 encodes")
	}
}

// TestStateRoundTrip encodes a decoded state and decodes it again: value
// and salt survive, and an unversioned blob comes back versioned.
func TestStateRoundTrip(t *testing.T) {
	t.Parallel()
	for _, blob := range []string{"", `{"services":["api"],"stopped":{"api":1},"salt":"00ff"}`, `{"version":2,"salt":"aa","services":["x"]}`} {
		st, err := testFormat.Decode([]byte(blob))
		if err != nil {
			t.Fatal(err)
		}
		out, err := testFormat.Encode(st.Value, st.Salt())
		if err != nil {
			t.Fatal(err)
		}
		again, err := testFormat.Decode(out)
		if err != nil {
			t.Fatal(err)
		}
		if again.Version != 2 || again.New || again.Salt() != st.Salt() || !cmp.Equal(again.Value, st.Value, cmp.AllowUnexported(Salted{})) {
			t.Errorf("%s: round trip gave %+v from %s, want %+v", blob, again, out, st)
		}
	}
}

func TestHashSecrets(t *testing.T) {
	t.Parallel()
	svc := &core.ServiceSpec{Name: "api", SecretEnv: []core.SecretRef{{Env: "TOKEN", Ref: "t"}, {Env: "DB", Ref: "d"}}}
	values := SecretValues{"t": "tok", "d": "pw"}
	hash := func(s Salt, svc *core.ServiceSpec, v SecretValues, l SecretLayout) string {
		return hex.EncodeToString(s.HashSecrets(svc, v, l))
	}
	base := hash("salt", svc, values, SecretsByRef)
	for _, tc := range []struct {
		name string
		got  string
		same bool
	}{
		{"the same inputs", hash("salt", svc, values, SecretsByRef), true},
		{"the same values in another map", hash("salt", svc, SecretValues{"d": "pw", "t": "tok"}, SecretsByRef), true},
		{"the variables declared in another order", hash("salt", &core.ServiceSpec{SecretEnv: []core.SecretRef{svc.SecretEnv[1], svc.SecretEnv[0]}}, values, SecretsByRef), true},
		{"another salt", hash("pepper", svc, values, SecretsByRef), false},
		{"another value", hash("salt", svc, SecretValues{"t": "tok", "d": "pw2"}, SecretsByRef), false},
		{"values that run into each other", hash("salt", svc, SecretValues{"t": "tokp", "d": "w"}, SecretsByRef), false},
		{"a missing value", hash("salt", svc, SecretValues{"t": "tok"}, SecretsByRef), false},
		{"the other layout", hash("salt", svc, values, SecretsByEnv), false},
	} {
		if (tc.got == base) != tc.same {
			t.Errorf("%s: hash %s against %s, want same=%v", tc.name, tc.got, base, tc.same)
		}
	}
	byEnv := hash("salt", svc, values, SecretsByEnv)
	if reordered := hash("salt", &core.ServiceSpec{SecretEnv: []core.SecretRef{svc.SecretEnv[1], svc.SecretEnv[0]}}, values, SecretsByEnv); reordered == byEnv {
		t.Errorf("SecretsByEnv ignores the order of the variables")
	}
	for _, leak := range []string{"tok", "pw", hex.EncodeToString([]byte("tok"))} {
		if strings.Contains(base, leak) {
			t.Errorf("hash %s shows %q", base, leak)
		}
	}
}

func TestNewSaltIsRandom(t *testing.T) {
	t.Parallel()
	a, errA := NewSalt()
	b, errB := NewSalt()
	if errA != nil || errB != nil || a == b || len(a) != 32 {
		t.Errorf("NewSalt: %q (%v), %q (%v), want two different 32-digit salts", a, errA, b, errB)
	}
}

func TestEncodeAfter(t *testing.T) {
	t.Parallel()
	failed := errors.New("apply: engine gone")
	for _, tc := range []struct {
		name    string
		format  StateFormat[any]
		opErr   error
		wantErr error
		blob    bool
	}{
		{"an operation that succeeded", StateFormat[any]{Version: 1}, nil, nil, true},
		{"an operation that failed keeps its error and the state", StateFormat[any]{Version: 1}, failed, failed, true},
		{"a state that does not encode, after a failure", StateFormat[any]{}, failed, failed, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			blob, err := tc.format.EncodeAfter(tc.opErr, testState{Services: []string{"api"}}, "s")
			if err != tc.wantErr || (blob != nil) != tc.blob {
				t.Errorf("EncodeAfter: %s, %v; want a blob %v and %v", blob, err, tc.blob, tc.wantErr)
			}
		})
	}
	if _, err := (StateFormat[any]{}).EncodeAfter(nil, testState{}, "s"); err == nil {
		t.Errorf("EncodeAfter hides the encoding's error")
	}
}

func TestAppliedServices(t *testing.T) {
	t.Parallel()
	type st struct {
		Salted
		AppliedServices
		Project string `json:"project"`
	}
	var a st
	a.Services = []core.ServiceSpec{{Name: "api", Replicas: 2}, {Name: "db", Replicas: 1}}
	if a.Service("nope") != nil {
		t.Errorf("a service that was not applied is found")
	}
	a.Service("db").Replicas = 3
	if a.Services[1].Replicas != 3 {
		t.Errorf("Service does not point into Services")
	}
	a.SetStopped("api", 2) // on a nil map
	a.SetStopped("db", 3)
	if diff := cmp.Diff(map[string]int{"api": 2, "db": 3}, a.Stopped); diff != "" {
		t.Errorf("stopped (-want +got):\n%s", diff)
	}
	blob, err := StateFormat[st]{Version: 1}.Encode(a, "ab")
	if err != nil {
		t.Fatal(err)
	}
	want := `{"project":"","salt":"ab","services":[{"name":"api","image":"","replicas":2},{"name":"db","image":"","replicas":3}],"stopped":{"api":2,"db":3},"version":1}`
	if diff := cmp.Diff(want, string(blob)); diff != "" {
		t.Errorf("blob (-want +got):\n%s", diff)
	}
}
