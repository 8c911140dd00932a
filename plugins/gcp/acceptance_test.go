package gcp_test

import (
	"cmp"
	"encoding/json"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/sdk/backendtest"
)

// TestAcceptance runs the conformance kit against real Cloud Run. It runs
// only with ALPHASWARM_ACC_GCP=1 (make test-acc-gcp), and needs:
//
//	ALPHASWARM_ACC_GCP_PROJECT  the project ID
//	ALPHASWARM_ACC_GCP_REGION   a Cloud Run region (default europe-west1)
//	ALPHASWARM_ACC_GCP_KEY      the path of a service account key with the roles of docs/gcp.md
//	ALPHASWARM_ACC_GCP_IMAGE    an image that serves HTTP on $PORT (default us-docker.pkg.dev/cloudrun/container/hello)
//
// It creates and deletes services and secrets named acc-conformance-*,
// and is billed as any Cloud Run service is.
func TestAcceptance(t *testing.T) {
	if os.Getenv("ALPHASWARM_ACC_GCP") != "1" {
		t.Skip("live Cloud Run acceptance test: set ALPHASWARM_ACC_GCP=1, ALPHASWARM_ACC_GCP_PROJECT and ALPHASWARM_ACC_GCP_KEY (see TestAcceptance's doc), then make test-acc-gcp")
	}
	project := os.Getenv("ALPHASWARM_ACC_GCP_PROJECT")
	key, err := os.ReadFile(os.Getenv("ALPHASWARM_ACC_GCP_KEY"))
	if project == "" || err != nil {
		t.Fatalf("ALPHASWARM_ACC_GCP=1 needs ALPHASWARM_ACC_GCP_PROJECT and a readable ALPHASWARM_ACC_GCP_KEY: project %q, key: %v", project, err)
	}
	region := cmp.Or(os.Getenv("ALPHASWARM_ACC_GCP_REGION"), "europe-west1")
	image := cmp.Or(os.Getenv("ALPHASWARM_ACC_GCP_IMAGE"), "us-docker.pkg.dev/cloudrun/container/hello")
	cfg, _ := json.Marshal(map[string]any{"project": project, "region": region, "credentials": string(key), "name_prefix": "acc"})
	bad, _ := json.Marshal(map[string]any{"project": project, "region": "nowhere", "credentials": string(key)})
	backendtest.Run(t, backendtest.Harness{
		Connect:       backendtest.LaunchPackage(pluginPackage),
		Config:        cfg,
		BadConfig:     bad,
		BadConfigPath: "region",
		Service: func(string) core.ServiceSpec {
			return core.ServiceSpec{Image: image, Ports: []core.Port{{Name: "http", Container: 8080, Protocol: core.ProtocolTCP}}}
		},
		ExecCat:      []string{"cat"},
		ExecExit:     func(code int) []string { return []string{"sh", "-c", fmt.Sprintf("exit %d", code)} },
		Timeout:      10 * time.Minute,
		PollInterval: 5 * time.Second,
		Parallel:     2,
	})
}
