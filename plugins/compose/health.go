package compose

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"

	"github.com/alphaswarm/controller/core"
)

// replicaHealthy says whether a running replica passes its health check,
// and if not, why. Command checks are the engine's; HTTP and TCP checks are
// probed here, against the container's address on the project network,
// because minimal images have no curl to run them inside.
func (b *Backend) replicaHealthy(ctx context.Context, svc *core.ServiceSpec, c container.InspectResponse) (bool, string) {
	h := svc.Health
	if h == nil {
		return true, ""
	}
	if h.Kind == core.HealthCheckCommand {
		if c.State.Health == nil {
			return false, "no health status yet"
		}
		switch c.State.Health.Status {
		case container.Healthy:
			return true, ""
		case container.Unhealthy:
			return false, "unhealthy: " + lastProbeOutput(c.State.Health)
		}
		return false, "health check starting"
	}
	addr, err := probeAddress(svc, c)
	if err != nil {
		return false, err.Error()
	}
	if err := probe(ctx, h, addr); err != nil {
		return false, "health check failed: " + err.Error()
	}
	return true, ""
}

func lastProbeOutput(h *container.Health) string {
	if len(h.Log) == 0 {
		return "no probe has finished"
	}
	last := h.Log[len(h.Log)-1]
	return fmt.Sprintf("exit %d: %s", last.ExitCode, strings.TrimSpace(last.Output))
}

// probeAddress is host:port of the health check's port on the container.
func probeAddress(svc *core.ServiceSpec, c container.InspectResponse) (string, error) {
	port := 0
	for _, p := range svc.Ports {
		if p.Name == svc.Health.Port {
			port = p.Container
		}
	}
	if port == 0 {
		return "", fmt.Errorf("health check port %q is not a port of the service", svc.Health.Port)
	}
	if c.NetworkSettings != nil {
		for _, ep := range c.NetworkSettings.Networks {
			if ep != nil && ep.IPAddress != "" {
				return net.JoinHostPort(ep.IPAddress, strconv.Itoa(port)), nil
			}
		}
	}
	return "", fmt.Errorf("container has no network address yet")
}

// probe runs one HTTP or TCP check against addr.
func probe(ctx context.Context, h *core.HealthCheck, addr string) error {
	timeout := h.Timeout.Std()
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if h.Kind == core.HealthCheckTCP {
		conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
		if err != nil {
			return err
		}
		return conn.Close()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+h.Path, nil)
	if err != nil {
		return err
	}
	resp, err := probeClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode >= 400 {
		return fmt.Errorf("GET %s answered %s", h.Path, resp.Status)
	}
	return nil
}

// probeClient does not follow redirects (3xx is healthy) and keeps no
// connections, so a replaced replica leaves nothing behind.
var probeClient = &http.Client{
	Transport:     &http.Transport{DisableKeepAlives: true},
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}
