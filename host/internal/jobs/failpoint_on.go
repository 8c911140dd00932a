//go:build failpoints

package jobs

import (
	"os"
	"syscall"
)

// With the failpoints tag, ALPHASWARM_FAILPOINT=<name> kills the host
// with SIGKILL when it reaches that step, leaving everything as a crash
// would: plugin processes, running containers, a leased job.
func init() {
	want := os.Getenv("ALPHASWARM_FAILPOINT")
	if want == "" {
		return
	}
	failpoint = func(name string) {
		if name == want {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {}
		}
	}
}
