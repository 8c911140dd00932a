// Command etcd is etcd's own main, built from go.etcd.io/etcd/server/v3 at
// the version kube-apiserver was released with, for the test cluster.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
