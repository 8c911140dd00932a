package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/alphaswarm/controller/sdk"
)

// faultConfig is one fault block: make op fail Count times (0: always).
type faultConfig struct {
	Op    string `json:"op"`
	Kind  string `json:"kind"`
	Count int    `json:"count"`
}

// faults counts how often each configured fault has fired in this process.
type faults struct {
	mu    sync.Mutex
	list  []faultConfig
	fired []int
}

func (f *faults) set(list []faultConfig) error {
	if err := checkFaults(list, nil); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.list, f.fired = list, make([]int, len(list))
	return nil
}

// checkFaults checks fault blocks, skipping the values that are unknown.
func checkFaults(list []faultConfig, unknown sdk.Unknown) error {
	for i, fc := range list {
		switch fc.Kind {
		case "error", "unavailable", "crash", "hang":
		default:
			if unknown.Has(fmt.Sprintf("fault[%d].kind", i)) {
				break
			}
			return sdk.InvalidConfig(fmt.Sprintf("fault[%d].kind", i), "%q must be error, unavailable, crash or hang", fc.Kind)
		}
		if fc.Count < 0 {
			return sdk.InvalidConfig(fmt.Sprintf("fault[%d].count", i), "must not be negative")
		}
	}
	return nil
}

// trigger fails op if a fault for it is due.
func (f *faults) trigger(ctx context.Context, op string) error {
	f.mu.Lock()
	kind := ""
	for i, fc := range f.list {
		if fc.Op == op && (fc.Count == 0 || f.fired[i] < fc.Count) {
			f.fired[i]++
			kind = fc.Kind
			break
		}
	}
	f.mu.Unlock()
	switch kind {
	case "":
		return nil
	case "unavailable":
		return sdk.Unavailable(fmt.Errorf("simulated outage during %s", op))
	case "crash":
		fmt.Fprintf(os.Stderr, "simulated crash during %s\n", op)
		os.Exit(3)
	case "hang":
		<-ctx.Done()
		return ctx.Err()
	}
	return errors.New("simulated failure during " + op)
}
