// Package wire is what the two halves of the plugin boundary share: the
// plugin side (package sdk, which serves a Backend) and the host side
// (package sdk/pluginhost, which launches and calls plugins).
//
// It holds the go-plugin handshake and versioned plugin set, gRPC's raised
// message limits, mutual TLS (certificate issuing, the inherited pipe that
// carries the plugin's key pair, and both sides' TLS configurations, each
// pinning the other's certificate byte for byte), and the conversions of
// core types (deployment specs, status, events, metrics, node health)
// between Go and protobuf. Conversions of sdk types live beside their
// direction instead: to the wire in sdk (the server side), from the wire in
// pluginhost (the client side), so that neither imports the other.
//
// Nothing here changes the wire format: that is the .proto of
// sdk/internal/backendv1.
package wire
