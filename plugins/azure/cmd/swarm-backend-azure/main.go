// Command swarm-backend-azure is the Azure Container Apps backend plugin: it
// runs alphaswarm deployments as container apps in a managed environment.
package main

import (
	"github.com/alphaswarm/controller/plugins/azure"
	"github.com/alphaswarm/controller/sdk"
)

func main() { sdk.Serve(azure.New()) }
