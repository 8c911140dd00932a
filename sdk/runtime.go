package sdk

import "github.com/alphaswarm/controller/core"

// Each runtime operation names the deployment and carries its state. Service,
// where present, narrows the operation to one service; empty means all. A
// response State, when not nil, replaces the stored state.

// RestartRequest restarts the replicas of Service, or of every service.
type RestartRequest struct {
	Deployment core.DeploymentRef
	State      []byte
	Service    string
}

// RestartResponse carries the state after the restart.
type RestartResponse struct {
	State []byte
}

// StartRequest starts what Stop stopped, with the replica count it had.
type StartRequest struct {
	Deployment core.DeploymentRef
	State      []byte
	Service    string
}

// StartResponse carries the state after the start.
type StartResponse struct {
	State []byte
}

// StopRequest stops Service, or every service, keeping it defined.
type StopRequest struct {
	Deployment core.DeploymentRef
	State      []byte
	Service    string
}

// StopResponse carries the state after the stop.
type StopResponse struct {
	State []byte
}

// ScaleRequest sets the replica count of one service.
type ScaleRequest struct {
	Deployment core.DeploymentRef
	State      []byte
	Service    string
	Replicas   int
}

// ScaleResponse carries the state after scaling.
type ScaleResponse struct {
	State []byte
}

// MetricsRequest asks for current resource use of Service, or of all.
type MetricsRequest struct {
	Deployment core.DeploymentRef
	State      []byte
	Service    string
}

// MetricsResponse carries one point per replica and metric.
type MetricsResponse struct {
	Points []core.MetricPoint
}

// NodeHealthRequest asks for the health of the backend's nodes.
type NodeHealthRequest struct{}

// NodeHealthResponse lists the nodes.
type NodeHealthResponse struct {
	Nodes []core.NodeHealth
}
