// Package bench holds the plugin boundary's benchmarks. Each compares the
// SDK against a baseline measured in the same run, and "make bench" prints
// the ratios (see tools/benchratio): plugin launch with mutual TLS against a
// plain go-plugin launch, and one SDK call against raw gRPC.
package bench
