// Package thirdparty tests a third-party author's path: a plugin written in
// a module of its own, outside this workspace, against nothing but the
// public SDK (sdk and core), built with GOWORK=off, checked by the
// conformance kit, then found, described and locked by swarmctl.
package thirdparty
