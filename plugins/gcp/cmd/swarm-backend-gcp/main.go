// Command swarm-backend-gcp is the GCP backend plugin: it runs alphaswarm
// deployments as Cloud Run services.
package main

import (
	"github.com/alphaswarm/controller/plugins/gcp"
	"github.com/alphaswarm/controller/sdk"
)

func main() { sdk.Serve(gcp.New()) }
