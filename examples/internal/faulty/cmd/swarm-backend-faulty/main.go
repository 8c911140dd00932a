// Command swarm-backend-faulty is a test plugin: the memory backend with
// faults injected on purpose (package faulty). Tests build it; it is not
// shipped.
package main

import (
	"github.com/alphaswarm/controller/examples/internal/faulty"
	"github.com/alphaswarm/controller/sdk"
)

func main() { sdk.Serve(faulty.New()) }
