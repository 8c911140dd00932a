package backendtest

import (
	"testing"

	"github.com/alphaswarm/controller/sdk"
)

// TestExitCodeOK: the kit takes sdk.ExitCodeUnknown for an exit code only
// from a backend whose harness declares it, and never a wrong known code.
func TestExitCodeOK(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		unknownOK bool
		got, want int
		ok        bool
	}{
		{"right code", false, 3, 3, true},
		{"wrong code", false, 0, 3, false},
		{"unknown, not declared", false, sdk.ExitCodeUnknown, 0, false},
		{"unknown, declared", true, sdk.ExitCodeUnknown, 42, true},
		{"wrong code, unknown declared", true, 1, 0, false},
		{"right code, unknown declared", true, 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := exitCodeOK(Harness{ExecExitUnknown: tt.unknownOK}, tt.got, tt.want); got != tt.ok {
				t.Errorf("exitCodeOK(unknown allowed %v, got %d, want %d) = %v, want %v", tt.unknownOK, tt.got, tt.want, got, tt.ok)
			}
		})
	}
}
