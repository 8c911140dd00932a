// Command swarmctl is the alphaswarm-controller CLI and host daemon.
package main

import (
	"os"

	"github.com/alphaswarm/controller/host/internal/cli"
)

func main() { os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr)) }
