package sdk

import (
	"io"

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
	ExitCode int
}
