package sdk

import (
	"time"

	"github.com/alphaswarm/controller/core"
)

// LogsRequest asks for the log lines of Service (or of every service, when
// empty), optionally of one Replica.
type LogsRequest struct {
	Deployment core.DeploymentRef
	State      []byte
	Service    string
	Replica    string
	// Follow keeps the stream open for new lines until the context ends.
	Follow bool
	// Tail limits history to the last Tail lines of each replica; zero or
	// less sends all of it.
	Tail int
	// Since, when set, skips lines older than it.
	Since time.Time
}

// Stream names the output a log line came from.
type Stream string

// The log streams.
const (
	Stdout Stream = "stdout"
	Stderr Stream = "stderr"
)

// LogLine is one line of a replica's output, without its trailing newline.
type LogLine struct {
	Time    time.Time `json:"time"`
	Service string    `json:"service"`
	Replica string    `json:"replica"`
	Stream  Stream    `json:"stream"`
	Message string    `json:"message"`
}

// LogSender delivers one line to the caller. An error means the caller is
// gone: stop and return it.
type LogSender func(LogLine) error
