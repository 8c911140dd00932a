package core

import "time"

// Well-known metric names. Backends may report others.
const (
	// MetricCPUCores is CPU use in cores (1.0 = one core busy).
	MetricCPUCores = "cpu_cores"
	// MetricMemoryBytes is resident memory in bytes.
	MetricMemoryBytes = "memory_bytes"
)

// MetricPoint is one sample of one metric for one replica of a service.
type MetricPoint struct {
	Service string    `json:"service"`
	Replica string    `json:"replica,omitempty"`
	Name    string    `json:"name"`
	Unit    string    `json:"unit"`
	Value   float64   `json:"value"`
	Time    time.Time `json:"time"`
}

// NodeHealth is the state of one node a backend runs workloads on: a Docker
// Engine, a Kubernetes node, a cloud region or cluster.
type NodeHealth struct {
	Name      string   `json:"name"`
	Health    Health   `json:"health"`
	Reachable bool     `json:"reachable"`
	Reasons   []string `json:"reasons,omitempty"`
	Version   string   `json:"version,omitempty"`
	// Capacity; zero means the backend does not know.
	CPUs        float64           `json:"cpus,omitempty"`
	MemoryBytes int64             `json:"memory_bytes,omitempty"`
	DiskBytes   int64             `json:"disk_bytes,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
}

// EventLevel is the severity of a progress Event.
type EventLevel string

// The event levels.
const (
	EventInfo    EventLevel = "info"
	EventWarning EventLevel = "warning"
	EventError   EventLevel = "error"
)

// Event is one step of progress reported while an operation runs, such as
// "created container api-1" or "waiting for api-2 to become healthy".
type Event struct {
	Time    time.Time  `json:"time"`
	Level   EventLevel `json:"level"`
	Service string     `json:"service,omitempty"`
	Replica string     `json:"replica,omitempty"`
	Message string     `json:"message"`
}
