// Package core is the shared vocabulary of alphaswarm-controller: the data types
// that the host, the plugin SDK and every backend plugin exchange.
//
// A DeploymentSpec is what a topology file describes: a tenant's deployment in
// one environment, made of services. A DeploymentStatus is what a backend reports
// back, with a Health for the deployment, each service and each replica.
// MetricPoint, NodeHealth and Event carry runtime observations.
//
// Every type here is JSON-stable: field names are snake_case, are never renamed,
// and new fields are only ever added as optional. Golden files under testdata/
// pin the encoding. The package imports only the standard library.
package core
