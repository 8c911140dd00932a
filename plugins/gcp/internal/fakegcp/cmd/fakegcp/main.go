// Command fakegcp serves the fake Google Cloud of package fakegcp on a
// loopback port, for tests that run the GCP backend in processes they do
// not start themselves (the host's end-to-end tests). It prints
// "listening on ADDR" and serves until its standard input closes or it is
// signalled.
package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/alphaswarm/controller/plugins/gcp/internal/fakegcp"
)

func main() {
	s, err := fakegcp.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, "fakegcp:", err)
		os.Exit(1)
	}
	fmt.Printf("listening on %s\n", s.Addr())
	done := make(chan struct{}, 2)
	go func() { io.Copy(io.Discard, os.Stdin); done <- struct{}{} }()
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
		<-sig
		done <- struct{}{}
	}()
	<-done
	s.Stop()
}
