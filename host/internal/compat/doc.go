// Package compat holds the plugin protocol's compatibility test: a host and
// a plugin built from an older commit of this repository work with a plugin
// and a host built from this tree, across a real process boundary. The
// package has no code of its own; see compat_test.go and testdata/probe.
package compat
