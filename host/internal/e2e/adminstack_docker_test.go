package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// adminStack is one run of docker-compose.admin.yml under a project of its
// own: its admin network's name, the run's id and the docker-compose
// command with the run's settings.
type adminStack struct {
	project, network, id string
	compose              func(args ...string) (string, error)
}

// checkDockerProfile brings up the docker profile's controller-docker,
// which holds the Docker socket and registers compose.local on it
// (deployments/compose/controller.docker.hcl), has a tenant apply a
// compose deployment through it, and checks with the docker CLI that the
// workload's containers are on their project's network and not on the
// admin network, where the controller is alone. Destroy must leave nothing
// of the workload, and down nothing of the stack.
//
// The health check is a command, which the engine runs inside the replica:
// HTTP and TCP checks are run by the plugin against the replica's address,
// which Docker does not route to from the controller's network (bridge
// networks are isolated from each other), so they cannot pass here.
func checkDockerProfile(t *testing.T, s adminStack) {
	start := time.Now()
	if _, err := s.compose("--profile", "docker", "up", "-d", "controller-docker"); err != nil {
		t.Fatal(err)
	}
	ctr := composeContainer(t, s.project)
	waitHealthy(t, ctr, "controller-docker", s.compose)
	t.Logf("controller-docker healthy %v after up", time.Since(start).Round(time.Millisecond))

	name := "iso" + s.id
	workload := "as_demo_dev_" + name // controller.docker.hcl's project_prefix "as"
	t.Cleanup(func() { removeContainers(t, workload) })
	dir := writeTopology(t, fmt.Sprintf(`
backend "compose" "local" {}

deployment %q {
  tenant      = "demo"
  environment = "dev"
  backend     = backend.compose.local

  service "api" {
    image    = %q
    replicas = 2

    port "http" {
      container = 8080
    }

    health {
      command  = ["/echo", "check"]
      interval = "1s"
    }
  }
}
`, name, echoV1))
	run := stackRunner(t, s)
	run([]string{"apply", "-auto-approve", dir}, "demo/dev/"+name+": apply succeeded")
	run([]string{"status", "demo/" + name}, "api      2/2")

	replicas := containers(t, workload)
	if len(replicas) != 2 {
		t.Fatalf("containers of project %s: %+v, want the two replicas of api", workload, replicas)
	}
	for _, c := range replicas {
		if nets := containerNetworks(t, c.Names); !slices.Equal(nets, []string{workload + "_default"}) {
			t.Errorf("workload container %s is on networks %v, want only %s_default (never %s)", c.Names, nets, workload, s.network)
		}
	}
	if nets := containerNetworks(t, ctr); !slices.Equal(nets, []string{s.network}) {
		t.Errorf("controller-docker is on networks %v, want only %s", nets, s.network)
	}
	if out, err := dockerCLI("network", "inspect", "-f", "{{len .Containers}}", s.network); err != nil || strings.TrimSpace(out) != "1" {
		t.Errorf("containers on %s: %q %v, want the controller alone", s.network, strings.TrimSpace(out), err)
	}

	run([]string{"destroy", "-auto-approve", "demo/" + name}, "demo/dev/"+name+": destroy succeeded")
	if left := containers(t, workload); len(left) > 0 {
		t.Errorf("after destroy, containers of project %s: %+v", workload, left)
	}
	if out, err := dockerCLI("network", "ls", "-q", "--filter", "label=com.docker.compose.project="+workload); err != nil || strings.TrimSpace(out) != "" {
		t.Errorf("after destroy, networks of project %s: %q %v", workload, out, err)
	}
	stackDown(t, s.project, s.compose)
	t.Logf("docker profile took %v", time.Since(start).Round(time.Millisecond))
}

// stackRunner returns a function that runs a CLI command against the
// stack's controller and fails the test, with the controller's log, unless
// it succeeds printing want.
func stackRunner(t *testing.T, s adminStack) func(args []string, want string) {
	return func(args []string, want string) {
		t.Helper()
		code, out, errOut := swarmctl(t, args...)
		if code != 0 || !strings.Contains(out, want) {
			logs, _ := s.compose("logs", "--no-color", "controller-docker")
			t.Fatalf("swarmctl %s: exit %d, want %q\nstdout:\n%s\nstderr:\n%s\ncontroller-docker:\n%s", strings.Join(args, " "), code, want, out, errOut, logs)
		}
	}
}

// containerNetworks names the networks the container ctr is attached to,
// sorted, as docker inspect reports them.
func containerNetworks(t *testing.T, ctr string) []string {
	t.Helper()
	out, err := dockerCLI("inspect", "-f", "{{json .NetworkSettings.Networks}}", ctr)
	var nets map[string]json.RawMessage
	if err == nil {
		err = json.Unmarshal([]byte(out), &nets)
	}
	if err != nil {
		t.Fatalf("read the networks of container %s: %v", ctr, err)
	}
	return mapKeys(nets)
}

// dockerSocketGID is the group of /var/run/docker.sock, which the docker
// profile adds to the controller's user (make admin-up reads it the same way).
func dockerSocketGID(t *testing.T) string {
	t.Helper()
	fi, err := os.Stat("/var/run/docker.sock")
	if err != nil {
		t.Fatalf("stat the Docker socket for the docker profile's group: %v", err)
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		t.Fatalf("stat the Docker socket: no owner group in %T", fi.Sys())
	}
	return fmt.Sprint(st.Gid)
}
