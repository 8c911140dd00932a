// Command swarm-backend-memory is the reference backend plugin of
// alphaswarm-controller. It SIMULATES a container platform in memory: nothing
// runs, no container is created, no port is opened. It implements every
// capability of protocol v1 so that the host, its tests and its benchmarks
// can exercise the whole plugin boundary without Docker or a cluster, and it
// is the example to copy when writing a real backend.
//
// The simulated world lives in the state blob that Apply returns, as the
// protocol asks of every backend: the plugin itself keeps nothing, so it can
// crash and restart without losing a deployment.
package main

import "github.com/alphaswarm/controller/sdk"

func main() { sdk.Serve(New()) }
