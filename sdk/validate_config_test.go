package sdk

import "testing"

func TestUnknownHas(t *testing.T) {
	t.Parallel()
	u := Unknown{"token", "tls", "endpoint[1].url", "labels"}
	for _, tc := range []struct {
		path string
		want bool
	}{
		{"token", true},
		{"tokens", false},
		{"tls.ca_file", true},
		{"tlsx", false},
		{"endpoint[1].url", true},
		{"endpoint[0].url", false},
		{"endpoint[1]", false},
		{"labels.team", true},
		{"labels[0]", true},
		{"", false},
	} {
		if got := u.Has(tc.path); got != tc.want {
			t.Errorf("Has(%q) = %v, want %v", tc.path, got, tc.want)
		}
	}
	if Unknown(nil).Has("token") {
		t.Error("the nil set holds a path")
	}
}
