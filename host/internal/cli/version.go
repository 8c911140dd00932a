package cli

import (
	"encoding/json"
	"fmt"
	"runtime"

	"github.com/alphaswarm/controller/host/internal/version"
	"github.com/alphaswarm/controller/sdk"
)

func runVersion(e env, args []string) int {
	fs := newFlags(e, "version", "version [-json]")
	asJSON := fs.Bool("json", false, "print as JSON")
	if _, code, ok := fs.parse(args); !ok {
		return code
	}
	v := struct {
		Version  string `json:"version"`
		Protocol int    `json:"plugin_protocol"`
		Go       string `json:"go"`
		Platform string `json:"platform"`
	}{version.Version, sdk.ProtocolVersion, runtime.Version(), runtime.GOOS + "_" + runtime.GOARCH}
	if *asJSON {
		out, _ := json.MarshalIndent(v, "", "  ")
		fmt.Fprintln(e.stdout, string(out))
		return exitOK
	}
	fmt.Fprintf(e.stdout, "swarmctl v%s\nplugin protocol %d\n%s on %s\n", v.Version, v.Protocol, v.Go, v.Platform)
	return exitOK
}
