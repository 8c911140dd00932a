package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alphaswarm/controller/host/internal/testbin"
)

// The credentials the AWS emulator accepts (awsemu.AccessKeyID and
// awsemu.SecretAccessKey; the host may not import the plugin's packages).
const (
	awsEmuKeyID  = "AKIAEMULATOR00000001"
	awsEmuSecret = "emulator-secret-access-key"
)

var (
	awsPluginOnce sync.Once
	awsPluginDir  string
	awsPluginErr  error
)

// buildAWSPlugin builds swarm-backend-aws into a plugin directory of its
// own, which the test names to the host beside the dev binaries' one.
func buildAWSPlugin() (string, error) {
	awsPluginOnce.Do(func() {
		awsPluginDir = filepath.Join(filepath.Dir(pluginDir), "aws-plugins")
		awsPluginErr = testbin.Build(testbin.AWSPlugin, filepath.Join(awsPluginDir, "swarm-backend-aws"))
	})
	return awsPluginDir, awsPluginErr
}

// awsEmu is the AWS plugin's emulator running as a process of its own.
type awsEmu struct{ url string }

// startAWSEmu runs the emulator with the ECS cluster "apps" and the
// flags in args, and returns its base URL.
func startAWSEmu(t *testing.T, region string, args ...string) *awsEmu {
	t.Helper()
	f := startFakeCloud(t, testbin.AWSEmu, append([]string{"-region", region, "-cluster", "apps"}, args...)...)
	return &awsEmu{url: "http://" + f.announced("listening on ")}
}

// awsEmuState is the part of the emulator's read-only state answer
// (GET /_emulator/state) the test checks.
type awsEmuState struct {
	TaskDefinitions []struct {
		Family               string `json:"family"`
		Status               string `json:"status"`
		ContainerDefinitions []struct {
			Environment []struct{ Name, Value string } `json:"environment"`
			Secrets     []struct {
				Name      string `json:"name"`
				ValueFrom string `json:"valueFrom"`
			} `json:"secrets"`
		} `json:"containerDefinitions"`
	}
	Services []struct {
		ServiceName  string `json:"serviceName"`
		Status       string `json:"status"`
		DesiredCount int    `json:"desiredCount"`
		Tags         []struct {
			Key   string `json:"key"`
			Value string `json:"value"`
		} `json:"tags"`
	}
	Tasks []struct {
		TaskArn       string `json:"taskArn"`
		Group         string `json:"group"`
		LastStatus    string `json:"lastStatus"`
		DesiredStatus string `json:"desiredStatus"`
	}
	AssumedCalls map[string]int
	LogGroups    map[string]map[string]string
	Namespaces   map[string]struct {
		Tags     map[string]string
		Services []string
	}
	Secrets map[string]struct {
		ARN   string
		Value string
		Tags  map[string]string
	}
}

func (e *awsEmu) state(t *testing.T) awsEmuState {
	t.Helper()
	resp, err := http.Get(e.url + "/_emulator/state")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st awsEmuState
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil || resp.StatusCode != 200 {
		t.Fatalf("emulator state: %d %v", resp.StatusCode, err)
	}
	return st
}

// service returns the name of the ECS service tagged as topology service
// name, "" when there is none.
func (st awsEmuState) service(name string) (string, int) {
	for _, s := range st.Services {
		for _, tag := range s.Tags {
			if tag.Key == "alphaswarm:service" && tag.Value == name && s.Status == "ACTIVE" {
				return s.ServiceName, s.DesiredCount
			}
		}
	}
	return "", 0
}

// running lists the tasks of ECS service svc that run and are meant to.
func (st awsEmuState) running(svc string) []string {
	var arns []string
	for _, task := range st.Tasks {
		if task.Group == "service:"+svc && task.LastStatus == "RUNNING" && task.DesiredStatus == "RUNNING" {
			arns = append(arns, task.TaskArn)
		}
	}
	return arns
}

// eventually polls the emulator until ok says its state is as wanted, or
// fails after a deadline generous enough for a loaded machine.
func (e *awsEmu) eventually(t *testing.T, what string, ok func(awsEmuState) bool) awsEmuState {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		st := e.state(t)
		if ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			b, _ := json.MarshalIndent(st, "", "  ")
			t.Fatalf("the emulator never showed %s:\n%s", what, b)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// awsBackend is a host configuration registering aws.local on the
// emulator at url for tenant acme, with the credential attributes creds.
func awsBackend(url, creds string) string {
	return fmt.Sprintf(`backend "aws" "local" {
  config {
    region             = "eu-west-1"
%[2]s
    cluster            = "apps"
    subnets            = ["subnet-0a1b2c3d"]
    execution_role_arn = "arn:aws:iam::123456789012:role/alphaswarm-task-execution"
    rollout_timeout    = "2m"
    endpoints = {
      ecs            = %[1]q
      logs           = %[1]q
      secretsmanager = %[1]q
      cloudwatch     = %[1]q
      sts            = %[1]q
      servicediscovery = %[1]q
    }
  }
  grant {
    tenants      = ["acme"]
    environments = ["*"]
  }
}
`, url, creds)
}

// TestAWSEndToEnd registers an aws backend as an operator does, its access
// keys by reference in the host's secret store, pointed at the AWS
// emulator running as a process of its own, and has a tenant plan, apply,
// scale, read the logs of, restart and destroy a two-service deployment
// through the host, the CLI and the plugin, checking the emulator's state
// after each step.
func TestAWSEndToEnd(t *testing.T) {
	tmp := t.TempDir()
	emu := startAWSEmu(t, "eu-west-1")
	config := filepath.Join(t.TempDir(), "host.hcl")
	src := awsBackend(emu.url, `    access_key_id      = credential("aws/local-key-id")
    secret_access_key  = credential("aws/local-secret")`)
	if err := os.WriteFile(config, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	bin, err := buildDevBin()
	if err != nil {
		t.Fatal(err)
	}
	awsDir, err := buildAWSPlugin()
	if err != nil {
		t.Fatal(err)
	}
	const dbSecret = "the-db-password-of-acme"
	d := launchDev(t, filepath.Join(bin, "swarmctl"), tmp,
		[]string{"-config", config, "-plugin-dir", filepath.Join(bin, "plugins"), "-plugin-dir", awsDir},
		"ALPHASWARM_SECRET_AWS_LOCAL_KEY_ID="+awsEmuKeyID, "ALPHASWARM_SECRET_AWS_LOCAL_SECRET="+awsEmuSecret,
		"ALPHASWARM_TENANT_SECRET_ACME__DB="+dbSecret)
	d.waitReady(t)
	acme := d.as(t, "acme", "all")
	t.Setenv("ALPHASWARM_CONTROLLER_URL", d.url)
	t.Setenv("ALPHASWARM_TOKEN", acme.token)
	dir := writeTopology(t, `
backend "aws" "local" {}

deployment "shop" {
  tenant      = "acme"
  environment = "prod"
  backend     = backend.aws.local

  service "db" {
    image = "registry.example/db:1"
    port "pg" {
      container = 5432
    }
  }

  service "api" {
    image      = "registry.example/api:1"
    depends_on = [service.db]
    env        = { MODE = "shop" }
    secret_env = { DB_PASSWORD = secret("db") }
    port "http" {
      container = 8080
      host      = 8080
    }
    resources {
      cpu    = 0.3
      memory = "600Mi"
    }
  }
}
`)
	run := d.runner(t)

	// Plan: what Fargate approximates and drops, and nothing made yet.
	if out := run("plan", dir); !strings.Contains(out, "approximated") || !strings.Contains(out, "dropped") {
		t.Errorf("plan does not say what ECS approximates and drops:\n%s", out)
	}
	if st := emu.state(t); len(st.Services) != 0 || len(st.TaskDefinitions) != 0 {
		t.Fatalf("plan made something in the emulator: %+v", st)
	}

	// Apply: two services, one running task each, the secret in Secrets
	// Manager and referenced, never in a task definition.
	run("apply", "-auto-approve", dir)
	st := emu.eventually(t, "db and api running one task each", func(st awsEmuState) bool {
		db, _ := st.service("db")
		api, _ := st.service("api")
		return db != "" && api != "" && len(st.running(db)) == 1 && len(st.running(api)) == 1
	})
	api, _ := st.service("api")
	if !strings.HasPrefix(api, "as-acme-prod-shop-api-") {
		t.Errorf("api's ECS service is named %q", api)
	}
	if len(st.Secrets) != 1 || len(st.LogGroups) != 1 {
		t.Errorf("after apply: %d secrets, %d log groups, want 1 and 1", len(st.Secrets), len(st.LogGroups))
	}
	for name, sec := range st.Secrets {
		if sec.Value != dbSecret || sec.Tags["alphaswarm:tenant"] != "acme" || !strings.Contains(name, "acme") {
			t.Errorf("secret %s: tags %v, value as applied: %v", name, sec.Tags, sec.Value == dbSecret)
		}
	}
	// Service Connect: one Cloud Map namespace for the deployment, in
	// which db and api are found by name.
	if len(st.Namespaces) != 1 {
		t.Errorf("after apply: %d Cloud Map namespaces, want 1", len(st.Namespaces))
	}
	for name, ns := range st.Namespaces {
		if ns.Tags["alphaswarm:deployment"] != "shop" || !slices.Equal(ns.Services, []string{"api", "db"}) {
			t.Errorf("namespace %s: tags %v, discovery names %v, want the deployment's and [api db]", name, ns.Tags, ns.Services)
		}
	}
	raw, _ := json.Marshal(st.TaskDefinitions)
	if strings.Contains(string(raw), dbSecret) {
		t.Error("a task definition holds the secret's value")
	}
	referenced := false
	for _, td := range st.TaskDefinitions {
		for _, c := range td.ContainerDefinitions {
			for _, s := range c.Secrets {
				referenced = referenced || (s.Name == "DB_PASSWORD" && strings.HasPrefix(s.ValueFrom, "arn:aws:secretsmanager:eu-west-1:"))
			}
		}
	}
	if !referenced {
		t.Errorf("no task definition reads DB_PASSWORD from Secrets Manager: %s", raw)
	}

	// Scale: api's desired count is 3, and three tasks run.
	run("scale", "acme/shop", "api", "3")
	st = emu.eventually(t, "api running three tasks", func(st awsEmuState) bool {
		_, desired := st.service("api")
		return desired == 3 && len(st.running(api)) == 3
	})
	if out := run("status", "acme/shop"); !strings.Contains(out, "3/3") {
		t.Errorf("status after scale to 3:\n%s", out)
	}

	// Logs: the tasks' lines from CloudWatch Logs.
	if out := run("logs", "acme/shop", "api"); !strings.Contains(out, "emulated task") {
		t.Errorf("logs of api lack the tasks' lines:\n%s", out)
	}

	// Exec: not offered on ECS, and the tenant is told why.
	if code, _, errOut := swarmctl(t, "exec", "acme/shop", "api", "true"); code == 0 || !strings.Contains(errOut, "SSM Session Manager") {
		t.Errorf("exec on aws: exit %d, stderr %q; want a failure that says ECS Exec needs the SSM data channel", code, errOut)
	}

	// Restart: a new deployment replaces every task.
	before := st.running(api)
	run("restart", "-service", "api", "acme/shop")
	emu.eventually(t, "api's tasks all replaced", func(st awsEmuState) bool {
		now := st.running(api)
		return len(now) == 3 && !slices.ContainsFunc(now, func(arn string) bool { return slices.Contains(before, arn) })
	})

	// Destroy, with the data: nothing is left in the emulator.
	run("destroy", "-auto-approve", "-remove-data", "acme/shop")
	emu.eventually(t, "nothing left after destroy", func(st awsEmuState) bool {
		for _, td := range st.TaskDefinitions {
			if td.Status == "ACTIVE" {
				return false
			}
		}
		for _, task := range st.Tasks {
			if task.LastStatus != "STOPPED" {
				return false
			}
		}
		return len(st.Services) == 0 && len(st.Secrets) == 0 && len(st.LogGroups) == 0 && len(st.Namespaces) == 0
	})
	if code, out, errOut := swarmctl(t, "status", "-json", "acme/shop"); code == 0 || !strings.Contains(errOut, "not found") {
		t.Errorf("status after destroy: exit %d, want the deployment not found\n%s%s", code, out, errOut)
	}
	if strings.Contains(d.log.String(), awsEmuSecret) {
		t.Error("the host's log holds the AWS secret access key")
	}
}

// TestAWSWebIdentityEndToEnd registers an aws backend whose credential is
// an IRSA web identity token in the host's secret store, by reference: the
// plugin assumes the role with it through the emulator's STS, every call
// of the apply is signed with the role's session, and the token shows in
// neither the host's log nor the API's answers.
func TestAWSWebIdentityEndToEnd(t *testing.T) {
	const (
		role  = "arn:aws:iam::123456789012:role/alphaswarm-irsa-e2e"
		token = "eyJhbGciOiJSUzI1NiJ9.e2e-web-identity.emulated"
	)
	tmp := t.TempDir()
	emu := startAWSEmu(t, "eu-west-1", "-web-identity-role", role+"="+token)
	config := filepath.Join(t.TempDir(), "host.hcl")
	src := awsBackend(emu.url, fmt.Sprintf(`    web_identity_token = credential("aws/irsa-token")
    role_arn           = %q`, role))
	if err := os.WriteFile(config, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	bin, err := buildDevBin()
	if err != nil {
		t.Fatal(err)
	}
	awsDir, err := buildAWSPlugin()
	if err != nil {
		t.Fatal(err)
	}
	d := launchDev(t, filepath.Join(bin, "swarmctl"), tmp,
		[]string{"-config", config, "-plugin-dir", filepath.Join(bin, "plugins"), "-plugin-dir", awsDir},
		"ALPHASWARM_SECRET_AWS_IRSA_TOKEN="+token)
	d.waitReady(t)
	acme := d.as(t, "acme", "all")
	t.Setenv("ALPHASWARM_CONTROLLER_URL", d.url)
	t.Setenv("ALPHASWARM_TOKEN", acme.token)
	dir := writeTopology(t, `
backend "aws" "local" {}

deployment "irsa" {
  tenant      = "acme"
  environment = "prod"
  backend     = backend.aws.local

  service "web" {
    image = "registry.example/web:1"
  }
}
`)
	answers := &strings.Builder{}
	run := func(args ...string) {
		t.Helper()
		code, out, errOut := swarmctl(t, args...)
		answers.WriteString(out + errOut)
		if code != 0 {
			t.Fatalf("swarmctl %s: exit %d\n%s%s\n%s", strings.Join(args, " "), code, out, errOut, d.log)
		}
	}
	run("apply", "-auto-approve", dir)
	st := emu.eventually(t, "web running as the role", func(st awsEmuState) bool {
		web, _ := st.service("web")
		return web != "" && len(st.running(web)) == 1
	})
	if n := st.AssumedCalls[role]; n < 3 {
		t.Errorf("%d calls signed with the role's session, want every call of configure and apply", n)
	}
	for _, path := range []string{"/v1/deployments/acme/irsa", "/v1/backends", "/v1/jobs/1/events"} {
		_, body := acme.call("GET", path, nil)
		answers.WriteString(body)
	}
	run("destroy", "-auto-approve", "-remove-data", "acme/irsa")
	emu.eventually(t, "nothing left after destroy", func(st awsEmuState) bool {
		return len(st.Services) == 0 && len(st.LogGroups) == 0
	})
	for where, text := range map[string]string{"the host's log": d.log.String(), "the API's answers": answers.String()} {
		if strings.Contains(text, token) {
			t.Errorf("the web identity token appears in %s", where)
		}
	}
}
