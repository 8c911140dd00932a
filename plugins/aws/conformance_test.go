package aws_test

import (
	"encoding/json"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/plugins/aws/internal/awsemu"
	"github.com/alphaswarm/controller/sdk/backendtest"
)

// pluginPackage is the plugin's main package, built by backendtest.Binary.
const pluginPackage = "./cmd/swarm-backend-aws"

// emu is the emulator every test of the package talks to, on loopback.
var emu *awsemu.Server

const testCluster = "alphaswarm-test"

func TestMain(m *testing.M) {
	var err error
	emu, err = awsemu.Start(awsemu.Options{Region: "eu-west-1", Step: 100 * time.Millisecond})
	if err != nil {
		fmt.Fprintf(os.Stderr, "start the AWS emulator: %v\n", err)
		os.Exit(1)
	}
	emu.CreateCluster(testCluster, "enhanced")
	code := m.Run()
	if err := checkIAMPolicy(emu.Ops()); code == 0 && err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	emu.Close()
	os.Exit(code)
}

// configWith returns a valid configuration for the emulator, changed by
// the key/value pairs given.
func configWith(kv ...any) json.RawMessage {
	c := map[string]any{
		"region": "eu-west-1", "access_key_id": awsemu.AccessKeyID, "secret_access_key": awsemu.SecretAccessKey,
		"cluster": testCluster, "subnets": []string{"subnet-0a1b2c3d"}, "security_groups": []string{"sg-0a1b2c3d"},
		"execution_role_arn": "arn:aws:iam::" + awsemu.AccountID + ":role/ecsTaskExecutionRole",
		"endpoints":          map[string]string{"ecs": emu.URL, "logs": emu.URL, "secretsmanager": emu.URL, "cloudwatch": emu.URL, "sts": emu.URL, "servicediscovery": emu.URL, "elasticloadbalancing": emu.URL},
		"rollout_timeout":    "60s",
	}
	for i := 0; i+1 < len(kv); i += 2 {
		c[kv[i].(string)] = kv[i+1]
	}
	b, _ := json.Marshal(c)
	return b
}

func testService(string) core.ServiceSpec {
	return core.ServiceSpec{
		Image: "public.ecr.aws/docker/library/busybox:1.37",
		Ports: []core.Port{{Name: "http", Container: 8080, Protocol: core.ProtocolTCP}},
	}
}

// TestConformance runs the SDK's conformance kit against the plugin binary
// and the emulator.
func TestConformance(t *testing.T) {
	backendtest.Run(t, backendtest.Harness{
		Connect:       backendtest.LaunchPackage(pluginPackage),
		Config:        configWith(),
		BadConfig:     configWith("rollout_timeout", "soon"),
		BadConfigPath: "rollout_timeout",
		Service:       testService,
		Timeout:       30 * time.Second,
	})
}
