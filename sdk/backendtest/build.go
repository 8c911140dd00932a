package backendtest

import (
	"fmt"
	"os"
	"os/exec"
)

// BuildPlugin compiles the plugin's main package pkg (an import path, or a
// directory such as ".") into a static binary at path, for a TestMain to
// launch with Launch.
func BuildPlugin(pkg, path string) error {
	cmd := exec.Command("go", "build", "-o", path, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build plugin %s: %v\n%s", pkg, err, out)
	}
	return nil
}
