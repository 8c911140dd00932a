package core

// DeploymentRef names one deployment: the tenant that owns it, the environment
// it runs in, and its name. It is the key of a deployment everywhere.
type DeploymentRef struct {
	Tenant      string `json:"tenant"`
	Environment string `json:"environment"`
	Name        string `json:"name"`
}

// String renders the reference as tenant/environment/name.
func (r DeploymentRef) String() string {
	return r.Tenant + "/" + r.Environment + "/" + r.Name
}

// DeploymentSpec is the desired state of one deployment: its identity and the
// services it runs. Service names are unique within a deployment.
type DeploymentSpec struct {
	Tenant      string        `json:"tenant"`
	Environment string        `json:"environment"`
	Name        string        `json:"name"`
	Services    []ServiceSpec `json:"services"`
}

// Ref returns the reference that names this deployment.
func (d *DeploymentSpec) Ref() DeploymentRef {
	return DeploymentRef{Tenant: d.Tenant, Environment: d.Environment, Name: d.Name}
}

// Service returns the service called name, or nil when there is none.
func (d *DeploymentSpec) Service(name string) *ServiceSpec {
	for i := range d.Services {
		if d.Services[i].Name == name {
			return &d.Services[i]
		}
	}
	return nil
}

// ServiceSpec is one long-running workload of a deployment, run as Replicas
// identical copies of a container image.
type ServiceSpec struct {
	Name  string `json:"name"`
	Image string `json:"image"`
	// Command replaces the image's entrypoint when set; Args replaces its
	// default arguments (Docker's entrypoint and cmd, Kubernetes' command and args).
	Command []string          `json:"command,omitempty"`
	Args    []string          `json:"args,omitempty"`
	Env     map[string]string `json:"env,omitempty"`
	// SecretEnv exposes secrets as environment variables. Only references are
	// kept here; values are resolved by the host at apply time.
	SecretEnv []SecretRef       `json:"secret_env,omitempty"`
	Ports     []Port            `json:"ports,omitempty"`
	Replicas  int               `json:"replicas"`
	Resources Resources         `json:"resources,omitzero"`
	Health    *HealthCheck      `json:"health,omitempty"`
	DependsOn []string          `json:"depends_on,omitempty"`
	Volumes   []VolumeMount     `json:"volumes,omitempty"`
	Labels    map[string]string `json:"labels,omitempty"`
}

// SecretRef exposes one secret as the environment variable Env. Ref names the
// secret in the host's secret store, as in secret("trading/db-password").
type SecretRef struct {
	Env string `json:"env"`
	Ref string `json:"ref"`
}

// Protocol is a port's transport protocol.
type Protocol string

// The transport protocols a Port may use.
const (
	ProtocolTCP Protocol = "tcp"
	ProtocolUDP Protocol = "udp"
)

// Port is a port a service listens on. Host, when not zero, publishes the
// container port on that port of the node (Docker) or load balancer.
type Port struct {
	Name      string   `json:"name"`
	Container int      `json:"container"`
	Host      int      `json:"host,omitempty"`
	Protocol  Protocol `json:"protocol"`
}

// Resources limits what one replica may use. Zero means no limit.
type Resources struct {
	// CPU is in cores: 0.5 is half a core.
	CPU float64 `json:"cpu,omitempty"`
	// MemoryBytes is the memory limit in bytes.
	MemoryBytes int64 `json:"memory_bytes,omitempty"`
}

// HealthCheckKind says how a health check probes a replica.
type HealthCheckKind string

// The kinds of health check.
const (
	// HealthCheckCommand runs Command inside the container; exit 0 is healthy.
	HealthCheckCommand HealthCheckKind = "command"
	// HealthCheckHTTP sends GET Path to the named Port; a 2xx or 3xx is healthy.
	HealthCheckHTTP HealthCheckKind = "http"
	// HealthCheckTCP opens a TCP connection to the named Port.
	HealthCheckTCP HealthCheckKind = "tcp"
)

// HealthCheck says how a backend tells that a replica is ready to serve.
type HealthCheck struct {
	Kind    HealthCheckKind `json:"kind"`
	Command []string        `json:"command,omitempty"`
	Path    string          `json:"path,omitempty"`
	// Port is the Name of one of the service's ports.
	Port        string   `json:"port,omitempty"`
	Interval    Duration `json:"interval,omitzero"`
	Timeout     Duration `json:"timeout,omitzero"`
	StartPeriod Duration `json:"start_period,omitzero"`
	// Retries is how many consecutive failures make a replica unhealthy.
	Retries int `json:"retries,omitempty"`
}

// VolumeMount mounts the named volume Volume at Path inside each replica.
// Named volumes outlive the deployment unless its destroy asks to remove data.
type VolumeMount struct {
	Volume   string `json:"volume"`
	Path     string `json:"path"`
	ReadOnly bool   `json:"read_only,omitempty"`
}
