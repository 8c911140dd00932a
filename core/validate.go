package core

import (
	"fmt"
	"regexp"
	"strings"
)

// Limits that keep a single deployment within what every backend and the
// plugin protocol can carry.
const (
	MaxServices = 5000
	MaxReplicas = 1000
	maxNameLen  = 63
)

var (
	dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	envName  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// FieldError is one problem with one field of a DeploymentSpec. Path names the
// field the way a topology file spells it: "service.api.port.http.container".
type FieldError struct {
	Path    string `json:"path"`
	Message string `json:"message"`
}

func (e FieldError) Error() string { return e.Path + ": " + e.Message }

// ValidationError lists every problem found in a DeploymentSpec.
type ValidationError []FieldError

func (v ValidationError) Error() string {
	msgs := make([]string, len(v))
	for i, e := range v {
		msgs[i] = e.Error()
	}
	return "invalid deployment: " + strings.Join(msgs, "; ")
}

type checker struct{ errs ValidationError }

func (c *checker) addf(path, format string, args ...any) {
	c.errs = append(c.errs, FieldError{Path: path, Message: fmt.Sprintf(format, args...)})
}

func (c *checker) name(path, v string) {
	switch {
	case v == "":
		c.addf(path, "must not be empty")
	case len(v) > maxNameLen:
		c.addf(path, "%q is longer than %d characters", v, maxNameLen)
	case !dnsLabel.MatchString(v):
		c.addf(path, "%q must be lower-case letters, digits and '-', starting and ending with a letter or digit", v)
	}
}

// Validate checks the structure every backend relies on: names, uniqueness,
// ranges and references between services. It returns a ValidationError listing
// every problem, or nil.
func (d *DeploymentSpec) Validate() error {
	c := &checker{}
	c.name("tenant", d.Tenant)
	c.name("environment", d.Environment)
	c.name("name", d.Name)
	if len(d.Services) > MaxServices {
		c.addf("service", "%d services is more than the limit of %d", len(d.Services), MaxServices)
		return c.errs
	}
	seen := make(map[string]bool, len(d.Services))
	for i := range d.Services {
		s := &d.Services[i]
		if seen[s.Name] {
			c.addf("service."+s.Name, "service %q is defined more than once", s.Name)
		}
		seen[s.Name] = true
		c.service(s)
	}
	for i := range d.Services {
		s := &d.Services[i]
		for _, dep := range s.DependsOn {
			switch {
			case dep == s.Name:
				c.addf("service."+s.Name+".depends_on", "a service cannot depend on itself")
			case !seen[dep]:
				c.addf("service."+s.Name+".depends_on", "service %q is not defined in deployment %q", dep, d.Name)
			}
		}
	}
	if cycle := dependencyCycle(d); cycle != nil {
		c.addf("service."+cycle[0]+".depends_on", "dependency cycle: %s", strings.Join(cycle, " -> "))
	}
	if len(c.errs) == 0 {
		return nil
	}
	return c.errs
}

func (c *checker) service(s *ServiceSpec) {
	p := "service." + s.Name
	c.name(p, s.Name)
	if strings.TrimSpace(s.Image) == "" {
		c.addf(p+".image", "must not be empty")
	}
	if s.Replicas < 0 || s.Replicas > MaxReplicas {
		c.addf(p+".replicas", "%d is outside 0..%d", s.Replicas, MaxReplicas)
	}
	if s.Resources.CPU < 0 {
		c.addf(p+".resources.cpu", "must not be negative")
	}
	if s.Resources.MemoryBytes < 0 {
		c.addf(p+".resources.memory", "must not be negative")
	}
	for k := range s.Env {
		if !envName.MatchString(k) {
			c.addf(p+".env", "%q is not a valid environment variable name", k)
		}
	}
	for _, ref := range s.SecretEnv {
		if !envName.MatchString(ref.Env) {
			c.addf(p+".secret_env", "%q is not a valid environment variable name", ref.Env)
		}
		if ref.Ref == "" {
			c.addf(p+".secret_env."+ref.Env, "secret reference must not be empty")
		}
	}
	ports := c.ports(p, s.Ports)
	for i, v := range s.Volumes {
		vp := fmt.Sprintf("%s.volume[%d]", p, i)
		c.name(vp+".volume", v.Volume)
		if !strings.HasPrefix(v.Path, "/") {
			c.addf(vp+".path", "%q must be an absolute path", v.Path)
		}
	}
	if s.Health != nil {
		c.health(p+".health", s.Health, ports)
	}
}

func (c *checker) ports(p string, ports []Port) map[string]bool {
	names := make(map[string]bool, len(ports))
	for _, port := range ports {
		pp := p + ".port." + port.Name
		c.name(pp, port.Name)
		if names[port.Name] {
			c.addf(pp, "port %q is defined more than once", port.Name)
		}
		names[port.Name] = true
		if port.Container < 1 || port.Container > 65535 {
			c.addf(pp+".container", "%d is outside 1..65535", port.Container)
		}
		if port.Host < 0 || port.Host > 65535 {
			c.addf(pp+".host", "%d is outside 1..65535", port.Host)
		}
		if port.Protocol != ProtocolTCP && port.Protocol != ProtocolUDP {
			c.addf(pp+".protocol", "%q must be \"tcp\" or \"udp\"", port.Protocol)
		}
	}
	return names
}

func (c *checker) health(p string, h *HealthCheck, ports map[string]bool) {
	switch h.Kind {
	case HealthCheckCommand:
		if len(h.Command) == 0 {
			c.addf(p+".command", "a command health check needs a command")
		}
	case HealthCheckHTTP, HealthCheckTCP:
		if !ports[h.Port] {
			c.addf(p+".port", "port %q is not defined on this service", h.Port)
		}
		if h.Kind == HealthCheckHTTP && !strings.HasPrefix(h.Path, "/") {
			c.addf(p+".http", "%q must be a path starting with /", h.Path)
		}
	default:
		c.addf(p, "kind %q must be command, http or tcp", h.Kind)
	}
	if h.Interval < 0 || h.Timeout < 0 || h.StartPeriod < 0 {
		c.addf(p, "durations must not be negative")
	}
	if h.Retries < 0 {
		c.addf(p+".retries", "must not be negative")
	}
}

// dependencyCycle returns one cycle of depends_on edges, or nil.
func dependencyCycle(d *DeploymentSpec) []string {
	const (
		unvisited = iota
		visiting
		done
	)
	byName := d.serviceIndex()
	state := make(map[string]int, len(d.Services))
	var stack []string
	var visit func(name string) []string
	visit = func(name string) []string {
		switch state[name] {
		case visiting:
			for i, n := range stack {
				if n == name {
					return append(append([]string{}, stack[i:]...), name)
				}
			}
		case done:
			return nil
		}
		state[name] = visiting
		stack = append(stack, name)
		if s := byName[name]; s != nil {
			for _, dep := range s.DependsOn {
				if dep != name {
					if cycle := visit(dep); cycle != nil {
						return cycle
					}
				}
			}
		}
		stack = stack[:len(stack)-1]
		state[name] = done
		return nil
	}
	for _, s := range d.Services {
		if cycle := visit(s.Name); cycle != nil {
			return cycle
		}
	}
	return nil
}

// StartOrder returns the service names so that every service comes after the
// services it depends on; services without an order between them keep the
// order of the spec. It assumes Validate found no cycle.
func (d *DeploymentSpec) StartOrder() []string {
	byName := d.serviceIndex()
	placed := make(map[string]bool, len(d.Services))
	order := make([]string, 0, len(d.Services))
	var place func(s *ServiceSpec)
	place = func(s *ServiceSpec) {
		if placed[s.Name] {
			return
		}
		placed[s.Name] = true
		for _, dep := range s.DependsOn {
			if ds := byName[dep]; ds != nil {
				place(ds)
			}
		}
		order = append(order, s.Name)
	}
	for i := range d.Services {
		place(&d.Services[i])
	}
	return order
}

// StartLevels groups the service names by dependency depth: level 0 holds
// the services that depend on nothing, and every service sits one level
// after the deepest service it depends on. Within a level, names keep
// StartOrder's order. A backend that starts services in parallel starts
// one level at a time. It assumes Validate found no cycle.
func (d *DeploymentSpec) StartLevels() [][]string {
	depth := map[string]int{}
	var out [][]string
	for _, name := range d.StartOrder() {
		level := 0
		for _, dep := range d.Service(name).DependsOn {
			level = max(level, depth[dep]+1)
		}
		depth[name] = level
		for len(out) <= level {
			out = append(out, nil)
		}
		out[level] = append(out[level], name)
	}
	return out
}

// serviceIndex maps service names to their specs.
func (d *DeploymentSpec) serviceIndex() map[string]*ServiceSpec {
	m := make(map[string]*ServiceSpec, len(d.Services))
	for i := range d.Services {
		m[d.Services[i].Name] = &d.Services[i]
	}
	return m
}

// IsName reports whether s is a valid tenant, environment, deployment or
// service name: a DNS label of at most 63 characters.
func IsName(s string) bool { return len(s) <= 63 && dnsLabel.MatchString(s) }
