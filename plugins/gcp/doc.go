// Package gcp is the GCP backend: it runs alphaswarm deployments as Cloud
// Run services (the Run v2 API, through cloud.google.com/go/run/apiv2). Each
// service of a deployment is one Cloud Run service, named from the
// operator's prefix, tenant, environment, deployment and service, with a
// hash suffix that keeps names apart within Cloud Run's 49 characters, and
// labelled with all four so destroy finds them by label. Its replicas are a
// fixed instance count (service-level manual scaling); its CPU and memory
// are mapped to values Cloud Run accepts; its health block becomes the
// container's startup and liveness probes; the services it depends on are
// given to it as URLs in its environment, since Cloud Run services do not
// reach each other by name. The services run as the deployment's runtime
// account (runtimeAccount): its tenant's in tenant_service_accounts, which
// refuses a tenant it does not name, else the operator's one
// service_account, which every tenant of the backend shares (plan says
// so). Each service another depends on grants that account roles/run.invoker in its
// own IAM policy (an etag read-modify-write that keeps every other
// binding), recorded in an annotation, and removed when no service
// depends on it any more.
//
// Secret references become Secret Manager secrets, one per deployment and
// reference, whose versions hold the values; the container reads them with
// secretKeyRef, pinned to a version, so no value reaches the service's spec,
// the state, events or errors. A keyed hash (sdk.Salt) of each value, in
// the secret's annotations, tells apply when to add a version.
//
// Create, update and delete are long-running operations: apply waits on
// each, reporting progress from the service's reconciling flag and
// conditions, and fails with the terminal condition's message when a
// revision does not become ready.
//
// Restart starts a new revision (force_new_revision); scale, stop and start
// set the manual instance count; logs come from Cloud Logging (history by
// filter, follow through TailLogEntries); metrics from Cloud Monitoring's
// per-revision utilisation; node health is the region's. Exec is never
// declared: Cloud Run has no exec API.
package gcp
