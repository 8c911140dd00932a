// Command swarm-backend-compose is the Docker Compose backend plugin: it runs
// alphaswarm deployments on a Docker Engine.
package main

import (
	"github.com/alphaswarm/controller/plugins/compose"
	"github.com/alphaswarm/controller/sdk"
)

func main() { sdk.Serve(compose.New()) }
