// Command swarm-backend-aws is the AWS (ECS on Fargate) backend plugin. The
// host launches it; it is not meant to be run by hand.
package main

import (
	"github.com/alphaswarm/controller/plugins/aws"
	"github.com/alphaswarm/controller/sdk"
)

func main() { sdk.Serve(aws.New()) }
