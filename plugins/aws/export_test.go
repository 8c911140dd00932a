package aws

import "github.com/alphaswarm/controller/core"

// Exported for the external tests.
var SizeFor = sizeFor

type FargateSize = fargateSize

func ServiceName(prefix string, ref core.DeploymentRef, svc string) string {
	return namer{prefix: prefix, ref: ref}.service(svc)
}

func LogGroupName(prefix string, ref core.DeploymentRef) string {
	return namer{prefix: prefix, ref: ref}.logGroup()
}

func SecretName(prefix string, ref core.DeploymentRef, secretRef string) string {
	return namer{prefix: prefix, ref: ref}.secret(secretRef)
}

func NamespaceName(prefix string, ref core.DeploymentRef) string {
	return namer{prefix: prefix, ref: ref}.namespace()
}
