package azure_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/appcontainers/armappcontainers/v3"
	"github.com/google/go-cmp/cmp"
	"github.com/gorilla/websocket"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/plugins/azure"
	"github.com/alphaswarm/controller/sdk"
)

// applied applies a one-service deployment with two replicas and
// destroys it when the test ends.
func applied(t *testing.T, b *azure.Backend, name string) (core.DeploymentSpec, []byte) {
	t.Helper()
	spec := core.DeploymentSpec{Tenant: "acme", Environment: "prod", Name: unique(name),
		Services: []core.ServiceSpec{{Name: "api", Image: "registry.example/api:1", Replicas: 2}}}
	resp, err := b.Apply(ctxFor(t), &sdk.ApplyRequest{Deployment: spec}, func(core.Event) {})
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	t.Cleanup(func() { destroy(t, b, spec.Ref(), resp.State) })
	return spec, resp.State
}

type execResult struct {
	Stdout, Stderr string
	Code           int
}

// TestExec runs commands through the plugin and the fake's exec endpoint:
// output on its streams, stdin to its end, terminal sizes relayed, the
// exit status reported unknown; refusals are clear and carry no token.
func TestExec(t *testing.T) {
	t.Parallel()
	b := configured(t, nil)
	spec, state := applied(t, b, "exec")
	replicas := replicaNames(t, spec)
	cases := []struct {
		name    string
		req     sdk.ExecRequest
		stdin   string
		resize  []sdk.TermSize
		want    execResult
		wantErr string
	}{
		{"echo", sdk.ExecRequest{Command: []string{"echo", "hello", "azure"}},
			"", nil, execResult{Stdout: "hello azure\n", Code: sdk.ExitCodeUnknown}, ""},
		{"stdin to its end", sdk.ExecRequest{Command: []string{"cat"}, Stdin: true},
			"one\ntwo\n", nil, execResult{Stdout: "one\ntwo\n", Code: sdk.ExitCodeUnknown}, ""},
		{"head ends on its own", sdk.ExecRequest{Command: []string{"head", "-n", "1"}, Stdin: true},
			"first\nsecond\n", nil, execResult{Stdout: "first\n", Code: sdk.ExitCodeUnknown}, ""},
		{"terminal size", sdk.ExecRequest{Command: []string{"stty", "size"}, TTY: true, Size: sdk.TermSize{Rows: 40, Cols: 132}},
			"", nil, execResult{Stdout: "40 132\n", Code: sdk.ExitCodeUnknown}, ""},
		{"resize relayed", sdk.ExecRequest{Command: []string{"stty", "size"}, TTY: true},
			"", []sdk.TermSize{{Rows: 50, Cols: 90}}, execResult{Stdout: "50 90\n", Code: sdk.ExitCodeUnknown}, ""},
		{"named replica", sdk.ExecRequest{Command: []string{"true"}, Replica: replicas[1]},
			"", nil, execResult{Code: sdk.ExitCodeUnknown}, ""},
		{"command not found", sdk.ExecRequest{Command: []string{"no-such-tool"}},
			"", nil, execResult{Stderr: "OCI runtime exec failed: exec failed: unable to start container process: exec: \"no-such-tool\": executable file not found in $PATH: unknown\r\n", Code: sdk.ExitCodeUnknown}, ""},
		{"argument with a space", sdk.ExecRequest{Command: []string{"sh", "-c", "exit 3"}},
			"", nil, execResult{}, "argument 2 of the command is empty or holds whitespace"},
		{"unknown replica", sdk.ExecRequest{Command: []string{"true"}, Replica: "api--other-tenant-replica"},
			"", nil, execResult{}, `replica "api--other-tenant-replica" of service api`},
		{"unknown service", sdk.ExecRequest{Command: []string{"true"}, Service: "db"},
			"", nil, execResult{}, `service "db"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req := tc.req
			req.Deployment, req.State = spec.Ref(), state
			if req.Service == "" {
				req.Service = "api"
			}
			var stdout, stderr bytes.Buffer
			resize := make(chan sdk.TermSize, len(tc.resize))
			for _, s := range tc.resize {
				resize <- s
			}
			close(resize)
			resp, err := b.Exec(ctxFor(t), &req, sdk.ExecStreams{Stdin: strings.NewReader(tc.stdin), Stdout: &stdout, Stderr: &stderr, Resize: resize})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("exec: %v, want an error containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("exec: %v", err)
			}
			got := execResult{Stdout: stdout.String(), Stderr: stderr.String(), Code: resp.ExitCode}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("exec %q (-want +got):\n%s", req.Command, diff)
			}
			if resp.ExitKnown() {
				t.Errorf("ExitKnown() = true for an endpoint that reports no exit status")
			}
		})
	}
	t.Run("unknown replica is NotFound", func(t *testing.T) {
		t.Parallel()
		_, err := b.Exec(ctxFor(t), &sdk.ExecRequest{Deployment: spec.Ref(), State: state, Service: "api", Replica: "nope", Command: []string{"true"}},
			sdk.ExecStreams{Stdout: io.Discard, Stderr: io.Discard})
		var nf *sdk.NotFoundError
		if !errors.As(err, &nf) {
			t.Errorf("exec in an unknown replica: %v, want NotFoundError", err)
		}
	})
}

// TestExecEndpointChecksToken: the fake's exec endpoint, as Azure's,
// refuses a connection without the app's current auth token (none, a wrong
// one, an expired one) before the upgrade, and takes the current one.
func TestExecEndpointChecksToken(t *testing.T) {
	t.Parallel()
	b := configured(t, nil)
	spec, _ := applied(t, b, "exectoken")
	appName := appNameOf(t, spec.Ref(), "api")
	apps, replicas := directClients(t)
	endpoint := execEndpointOf(t, apps, replicas, appName)
	token := func() string {
		tok, err := apps.GetAuthToken(ctxFor(t), group, appName, nil)
		if err != nil {
			t.Fatalf("get auth token: %v", err)
		}
		return *tok.Properties.Token
	}
	dial := func(tok string) int {
		var d websocket.Dialer
		h := http.Header{}
		if tok != "" {
			h.Set("Authorization", "Bearer "+tok)
		}
		conn, resp, err := d.DialContext(context.Background(), endpoint+"?command=true", h)
		if err == nil {
			conn.Close()
			return http.StatusSwitchingProtocols
		}
		if resp == nil {
			t.Fatalf("dial the exec endpoint: %v", err)
		}
		return resp.StatusCode
	}
	first := token()
	got := map[string]int{"none": dial(""), "wrong": dial("app-not-the-token"), "current": dial(first)}
	fake.ExpireAuthToken(appName)
	got["expired"] = dial(first)
	got["renewed"] = dial(token())
	want := map[string]int{"none": 401, "wrong": 401, "current": 101, "expired": 401, "renewed": 101}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("exec endpoint answers by token (-want +got):\n%s", diff)
	}
}

// directClients are SDK clients of the fake, as an operator's tools have.
func directClients(t *testing.T) (*armappcontainers.ContainerAppsClient, *armappcontainers.ContainerAppsRevisionReplicasClient) {
	t.Helper()
	opts := policy.ClientOptions{Cloud: cloud.Configuration{ActiveDirectoryAuthorityHost: fake.URL() + "/",
		Services: map[cloud.ServiceName]cloud.ServiceConfiguration{cloud.ResourceManager: {Endpoint: fake.URL(), Audience: fake.URL()}}}}
	cred, err := azidentity.NewClientSecretCredential(tenantID, clientID, clientSecret,
		&azidentity.ClientSecretCredentialOptions{ClientOptions: opts, DisableInstanceDiscovery: true})
	if err != nil {
		t.Fatal(err)
	}
	apps, err := armappcontainers.NewContainerAppsClient(subscription, cred, &arm.ClientOptions{ClientOptions: opts})
	if err != nil {
		t.Fatal(err)
	}
	reps, err := armappcontainers.NewContainerAppsRevisionReplicasClient(subscription, cred, &arm.ClientOptions{ClientOptions: opts})
	if err != nil {
		t.Fatal(err)
	}
	return apps, reps
}

// appNameOf is the name of the app of a deployment's service.
func appNameOf(t *testing.T, ref core.DeploymentRef, service string) string {
	t.Helper()
	return *appOf(t, ref, service).Model.Name
}

// replicaNames lists the replicas of the api service's app.
func replicaNames(t *testing.T, spec core.DeploymentSpec) []string {
	t.Helper()
	apps, reps := directClients(t)
	name := appNameOf(t, spec.Ref(), "api")
	app, err := apps.Get(ctxFor(t), group, name, nil)
	if err != nil {
		t.Fatal(err)
	}
	list, err := reps.ListReplicas(ctxFor(t), group, name, *app.Properties.LatestReadyRevisionName, nil)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range list.Value {
		out = append(out, *r.Name)
	}
	if len(out) < 2 {
		t.Fatalf("replicas %v, want 2", out)
	}
	return out
}

// execEndpointOf is the exec endpoint of the first replica of an app.
func execEndpointOf(t *testing.T, apps *armappcontainers.ContainerAppsClient, reps *armappcontainers.ContainerAppsRevisionReplicasClient, name string) string {
	t.Helper()
	app, err := apps.Get(ctxFor(t), group, name, nil)
	if err != nil {
		t.Fatal(err)
	}
	list, err := reps.ListReplicas(ctxFor(t), group, name, *app.Properties.LatestReadyRevisionName, nil)
	if err != nil || len(list.Value) == 0 {
		t.Fatalf("list replicas: %v", err)
	}
	return *list.Value[0].Properties.Containers[0].ExecEndpoint
}
