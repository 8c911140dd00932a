// Command k8scluster starts and stops the local Kubernetes control plane
// the Kubernetes backend is tested against: etcd, kube-apiserver,
// kube-controller-manager and kube-scheduler built from Go modules
// (scripts/k8s-bin.sh), and kwok, which simulates one node and its pods,
// serving their logs from a file and running exec locally.
//
//	k8scluster up -dir DIR -bin BINDIR     start, wait until ready, print the kubeconfig path
//	k8scluster down -dir DIR               stop every process and remove DIR
//	k8scluster ticker FILE                 append a CRI log line every 500ms (started by up)
//
// up writes DIR/kubeconfig (cluster admin), DIR/env (KUBECONFIG and the
// log file), the components' logs under DIR/logs and their pids in
// DIR/pids. Everything listens on 127.0.0.1 on free ports. A previous
// cluster in DIR is stopped first.
package main

import (
	"flag"
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: k8scluster up -dir DIR -bin BINDIR | down -dir DIR | ticker FILE")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "up":
		fs := flag.NewFlagSet("up", flag.ExitOnError)
		dir := fs.String("dir", ".swarm/k8s", "state directory")
		bin := fs.String("bin", "", "directory of the binaries (scripts/k8s-bin.sh prints it)")
		fs.Parse(os.Args[2:])
		var kubeconfig string
		if kubeconfig, err = up(*dir, *bin); err == nil {
			fmt.Println(kubeconfig)
		}
	case "down":
		fs := flag.NewFlagSet("down", flag.ExitOnError)
		dir := fs.String("dir", ".swarm/k8s", "state directory")
		fs.Parse(os.Args[2:])
		err = down(*dir)
	case "ticker":
		err = ticker(os.Args[2])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "k8scluster:", err)
		os.Exit(1)
	}
}
