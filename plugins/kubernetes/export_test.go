package kubernetes

import "github.com/alphaswarm/controller/core"

// NamespaceOf is the namespace a new deployment gets, for the tests.
func NamespaceOf(ref core.DeploymentRef) string { return (&Backend{}).target(ref, nil).namespace }
