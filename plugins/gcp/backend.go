package gcp

import (
	"context"

	logging "cloud.google.com/go/logging/apiv2"
	monitoring "cloud.google.com/go/monitoring/apiv3/v2"
	run "cloud.google.com/go/run/apiv2"
	secretmanager "cloud.google.com/go/secretmanager/apiv1"

	"github.com/alphaswarm/controller/sdk"
)

// Backend runs deployments as Cloud Run services in one project and
// region. Its fields are set once by Configure; it keeps no state between
// calls.
type Backend struct {
	cfg        config
	run        *run.ServicesClient
	secrets    *secretmanager.Client
	logging    *logging.Client
	monitoring *monitoring.MetricClient
}

// Interface guards: the capabilities declared so far. Exec is never
// declared: Cloud Run has no exec API.
var (
	_ sdk.Backend         = (*Backend)(nil)
	_ sdk.ConfigValidator = (*Backend)(nil)
)

// New returns an unconfigured backend.
func New() *Backend { return &Backend{} }

func (b *Backend) Info(context.Context) (*sdk.InfoResponse, error) {
	return &sdk.InfoResponse{
		Name: "gcp", Version: version, ConfigSchema: schema,
		Description: "Runs deployments as Cloud Run services on Google Cloud.",
	}, nil
}
