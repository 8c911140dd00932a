// Command swarm-backend-memory is the reference backend plugin of
// alphaswarm-controller: package memory, served. See that package for what
// it simulates and how.
package main

import (
	memory "github.com/alphaswarm/controller/examples/backend-memory"
	"github.com/alphaswarm/controller/sdk"
)

func main() { sdk.Serve(memory.New()) }
