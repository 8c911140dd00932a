package sdk

import (
	"io"
	"math"

	"github.com/alphaswarm/controller/core"
)

// TermSize is a terminal's size in character cells.
type TermSize struct {
	Rows uint16 `json:"rows"`
	Cols uint16 `json:"cols"`
}

// ExecRequest runs Command inside one replica of Service (the first ready one
// when Replica is empty).
type ExecRequest struct {
	Deployment core.DeploymentRef
	State      []byte
	Service    string
	Replica    string
	Command    []string
	// TTY allocates a terminal; stderr is then merged into stdout.
	TTY bool
	// Stdin attaches ExecStreams.Stdin to the command.
	Stdin bool
	// Size is the initial terminal size when TTY is set.
	Size TermSize
}

// ExecStreams wires a command's input and output. Stdin is nil unless the
// request asked for it and reaches EOF when the caller closes its input.
// Resize delivers terminal size changes and is closed when the caller is done.
type ExecStreams struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Resize <-chan TermSize
}

// ExecResponse carries the command's exit code.
type ExecResponse struct {
	// ExitCode is the command's exit status, or ExitCodeUnknown when the
	// platform ran the command but does not say how it ended.
	ExitCode int
}

// ExitCodeUnknown is the ExitCode of a command whose platform does not
// report its exit status, such as Azure Container Apps, whose exec endpoint
// closes the session without one. It is no status a process can exit with
// (POSIX gives 0..255, Windows a 32-bit code never equal to it in
// practice), and it crosses the plugin boundary as the int32 it is, so
// hosts need no new message to recognise it. A host tells its user that the
// status is unknown instead of showing a number; the conformance kit
// accepts it only from a backend whose Harness sets ExecExitUnknown.
const ExitCodeUnknown = math.MinInt32

// ExitKnown reports whether the backend reported the command's exit status.
func (r *ExecResponse) ExitKnown() bool { return r.ExitCode != ExitCodeUnknown }
