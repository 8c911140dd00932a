package main

import (
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRatios(t *testing.T) {
	t.Parallel()
	input := `goos: linux
BenchmarkLaunch/sdk-2     	      30	   9000000 ns/op
BenchmarkLaunch/plain-2   	      30	   6000000 ns/op
BenchmarkLaunch/sdk-2     	      30	  12000000 ns/op
BenchmarkLaunch/plain-2   	      30	   6000000 ns/op
BenchmarkLaunch/sdk-2     	      30	   8000000 ns/op
BenchmarkLaunch/plain-2   	      30	   5000000 ns/op
BenchmarkCall-2   	      40	  650099 ns/op	    172344 raw_p50_ns	    180394 sdk_p50_ns
BenchmarkCall-2   	      40	  650099 ns/op	    100000 raw_p50_ns	    125000 sdk_p50_ns
PASS
`
	samples, err := read(strings.NewReader(input), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ratios([]pair{{"launch", "Launch/sdk", "Launch/plain"}, {"call", "Call@sdk_p50_ns", "Call@raw_p50_ns"}}, samples)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"median Launch/sdk 9000000 (3 runs), Launch/plain 6000000 (3 runs)",
		"ratio launch 1.50",
		"median Call@sdk_p50_ns 152697 (2 runs), Call@raw_p50_ns 136172 (2 runs)",
		"ratio call 1.12",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if _, err := ratios([]pair{{"x", "Nope", "Launch/plain"}}, samples); err == nil {
		t.Errorf("a missing benchmark must be an error")
	}
	if _, err := parsePairs([]string{"launch=Launch/sdk"}); err == nil {
		t.Errorf("a pair without a baseline must be rejected")
	}
}
