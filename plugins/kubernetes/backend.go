package kubernetes

import (
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/alphaswarm/controller/sdk"
)

// Backend runs deployments on one Kubernetes cluster. Its fields are set
// once by Configure; it keeps no state between calls.
type Backend struct {
	cfg       config
	rest      *rest.Config
	client    kubernetes.Interface
	discovery discovery.DiscoveryInterface
}

// Interface guards: every capability is declared; metrics answer
// Unsupported at run time on clusters that do not serve metrics.k8s.io.
var (
	_ sdk.Backend            = (*Backend)(nil)
	_ sdk.Restarter          = (*Backend)(nil)
	_ sdk.StartStopper       = (*Backend)(nil)
	_ sdk.Scaler             = (*Backend)(nil)
	_ sdk.LogStreamer        = (*Backend)(nil)
	_ sdk.Executor           = (*Backend)(nil)
	_ sdk.MetricsReader      = (*Backend)(nil)
	_ sdk.NodeHealthReporter = (*Backend)(nil)
)

// New returns an unconfigured backend.
func New() *Backend { return &Backend{} }
