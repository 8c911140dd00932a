package core

import "time"

// DeploymentStatus is what a backend observed of one deployment.
type DeploymentStatus struct {
	Deployment DeploymentRef   `json:"deployment"`
	Health     Health          `json:"health"`
	Reasons    []string        `json:"reasons,omitempty"`
	Services   []ServiceStatus `json:"services"`
	ObservedAt time.Time       `json:"observed_at,omitzero"`
}

// Service returns the status of the service called name, or nil.
func (s *DeploymentStatus) Service(name string) *ServiceStatus {
	for i := range s.Services {
		if s.Services[i].Name == name {
			return &s.Services[i]
		}
	}
	return nil
}

// ServiceStatus is the observed state of one service. Reasons explain any
// health other than ready, in words an operator can act on.
type ServiceStatus struct {
	Name    string   `json:"name"`
	Health  Health   `json:"health"`
	Reasons []string `json:"reasons,omitempty"`
	// Desired is the replica count asked for; Ready how many pass their checks.
	Desired  int             `json:"desired"`
	Ready    int             `json:"ready"`
	Replicas []ReplicaStatus `json:"replicas,omitempty"`
}

// ReplicaStatus is the observed state of one replica (a container or a pod).
type ReplicaStatus struct {
	ID        string    `json:"id"`
	Health    Health    `json:"health"`
	Reasons   []string  `json:"reasons,omitempty"`
	StartedAt time.Time `json:"started_at,omitzero"`
	Restarts  int       `json:"restarts"`
	// ExitCode is set when the replica has exited.
	ExitCode *int `json:"exit_code,omitempty"`
}
