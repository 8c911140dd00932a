package pluginmgr

import (
	"testing"
	"time"

	"github.com/alphaswarm/controller/host/internal/stacks"
)

// within returns what ch delivers, failing the test with every goroutine's
// stack if that takes longer than limit: a deadlock fails instead of
// hanging the run.
func within[T any](t *testing.T, ch <-chan T, limit time.Duration, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(limit):
		t.Fatalf("%s did not return within %s; goroutines:\n%s", what, limit, stacks.All())
		panic("unreachable")
	}
}

// async runs fn in a goroutine and delivers its result.
func async[T any](fn func() T) <-chan T {
	ch := make(chan T, 1)
	go func() { ch <- fn() }()
	return ch
}
