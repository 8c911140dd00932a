// Package kubernetes is the Kubernetes backend: it runs alphaswarm
// deployments on a Kubernetes cluster with client-go. Each service is a
// Deployment (and a Service when it has ports) applied server-side under
// one field manager, in a namespace per deployment that apply creates and
// labels with the tenant and environment. Secret references become a
// Secret the Deployment reads through secretKeyRef, never values in the
// Deployment. Apply streams rollout progress and finishes when every
// rollout completes, or fails with the reason Kubernetes gives.
//
// Runtime operations map onto the cluster as kubectl does them: restart
// patches the pod template's restartedAt annotation, scale uses the /scale
// subresource, stop scales to zero and start back to the remembered count,
// logs read pods/log of every pod of the service, exec uses pods/exec over
// WebSocket with a SPDY fallback, metrics come from metrics.k8s.io when the
// cluster serves it, and node health from the Nodes. Everything apply
// creates carries the deployment's labels, so destroy finds it by label
// even after a failed apply.
package kubernetes
