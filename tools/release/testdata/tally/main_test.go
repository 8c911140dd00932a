package main

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/sdk/backendtest"
)

func TestConformance(t *testing.T) {
	backendtest.Run(t, backendtest.Harness{
		Connect:       backendtest.LaunchPackage("."),
		Config:        json.RawMessage(`{"unit": "replicas"}`),
		BadConfig:     json.RawMessage(`{"unit": 7}`),
		BadConfigPath: "unit",
		Service:       func(string) core.ServiceSpec { return core.ServiceSpec{Image: "tally/counter:1"} },
		Timeout:       10 * time.Second,
		PollInterval:  20 * time.Millisecond,
	})
}
