// Package stacks reads the running program's goroutine dump for tests:
// every goroutine's stack, and which of them stay blocked on a lock taken
// in a given package's code (a deadlock, rather than a moment's
// contention).
package stacks

import (
	"maps"
	"runtime"
	"slices"
	"strings"
	"time"
)

// All returns the stack of every goroutine, as a panic prints them.
func All() string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return string(buf[:n])
		}
		buf = make([]byte, 2*len(buf))
	}
}

// Goroutines returns the stack of every goroutine, one string each.
func Goroutines() []string { return strings.Split(All(), "\n\n") }

// StuckOnLocks returns the stacks of the goroutines that stay blocked
// acquiring a sync.Mutex or sync.RWMutex, with a frame of the package
// whose import path ends in pkg (as "/host/internal/pluginmgr"), for the
// whole of settle.
func StuckOnLocks(pkg string, settle time.Duration) []string {
	stuck := lockWaiters(pkg)
	deadline := time.Now().Add(settle)
	for len(stuck) > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		now := lockWaiters(pkg)
		for id := range stuck {
			if _, ok := now[id]; !ok {
				delete(stuck, id)
			}
		}
	}
	return slices.Sorted(maps.Values(stuck))
}

// lockWaiters returns, by goroutine header, every goroutine blocked in a
// mutex's Lock or RLock with a frame of pkg.
func lockWaiters(pkg string) map[string]string {
	out := map[string]string{}
	for _, g := range Goroutines() {
		header, _, _ := strings.Cut(g, " [")
		if waitsForLock(g) && strings.Contains(g, pkg+".") {
			out[header] = g
		}
	}
	return out
}

func waitsForLock(stack string) bool {
	for _, frame := range []string{"sync.(*Mutex).Lock", "sync.(*RWMutex).Lock", "sync.(*RWMutex).RLock"} {
		if strings.Contains(stack, frame) {
			return true
		}
	}
	return false
}
