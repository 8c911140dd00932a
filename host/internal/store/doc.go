// Package store keeps what the control plane must not forget: deployments
// (spec, encrypted plugin state, last status, current revision), their
// immutable revisions, and the audit log. It runs on embedded SQLite by
// default and on PostgreSQL when several hosts share one state, with one
// behaviour for both: the same queries, versioned migrations embedded in
// the binary, and the same tests run against each.
package store
