// Package e2e holds end-to-end tests that drive real backends through the
// host's plugin manager, the way the daemon will. They check the backend's
// real state with its own command-line tool (the docker CLI), since the host
// may not import a backend's SDK.
package e2e
