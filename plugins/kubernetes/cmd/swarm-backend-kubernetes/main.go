// Command swarm-backend-kubernetes is the Kubernetes backend plugin: it
// runs alphaswarm deployments on a Kubernetes cluster.
package main

import (
	"github.com/alphaswarm/controller/plugins/kubernetes"
	"github.com/alphaswarm/controller/sdk"
)

func main() { sdk.Serve(kubernetes.New()) }
