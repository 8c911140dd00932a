// Package backendv1 is the protobuf and gRPC code generated from
// proto/alphaswarm/backend/v1/backend.proto by "make proto". Only package sdk
// uses it: hosts and plugins see SDK types, never these.
package backendv1
