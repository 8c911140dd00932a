// Package topology loads the HCL topology language: a directory of .hcl
// files with variables, locals, backend blocks and deployments of services,
// turned into core.DeploymentSpec values the backends understand.
//
// Every problem is an hcl.Diagnostic with the file, line and column it is
// about; Load never returns a bare Go error for bad input. Secret references
// (secret("name")) stay references: the loader never sees a secret's value.
// See docs/topology.md for the language.
package topology
