// Command fakearm serves the fake Azure of package fakearm on a loopback
// port, for tests that run the Azure backend in processes they do not
// start themselves (the host's end-to-end tests). It registers one
// service principal (client secret, and a federated token when
// -federated-token is set) and one managed environment, prints
// "listening on URL" and "ca_file PATH" (the PEM of the certificate the
// server presents, for the plugin's ca_certificate), and serves until its
// standard input closes or it is signalled. GET /fakearm/apps lists the
// names of the apps it holds.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/alphaswarm/controller/plugins/azure/internal/fakearm"
)

func main() {
	var opts fakearm.Options
	var subscription, group, env, location string
	flag.StringVar(&opts.TenantID, "tenant-id", "66666666-7777-8888-9999-000000000000", "Entra ID tenant of the service principal")
	flag.StringVar(&opts.ClientID, "client-id", "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", "application (client) ID of the service principal")
	flag.StringVar(&opts.ClientSecret, "client-secret", "", "the service principal's client secret (none when empty)")
	flag.StringVar(&opts.FederatedToken, "federated-token", "", "the federated token accepted as a client assertion (none when empty)")
	flag.StringVar(&subscription, "subscription-id", "11111111-2222-3333-4444-555555555555", "subscription of the managed environment")
	flag.StringVar(&group, "resource-group", "rg-swarm", "resource group of the managed environment")
	flag.StringVar(&env, "environment", "cae-swarm", "name of the managed environment")
	flag.StringVar(&location, "location", "westeurope", "region of the managed environment")
	flag.Parse()
	s, err := fakearm.Start(opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fakearm:", err)
		os.Exit(1)
	}
	s.AddEnvironment(subscription, group, env, location)
	fmt.Printf("listening on %s\nca_file %s\n", s.URL(), s.CAFile())
	done := make(chan struct{}, 2)
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); done <- struct{}{} }()
	go func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
		<-sig
		done <- struct{}{}
	}()
	<-done
	s.Close()
}
