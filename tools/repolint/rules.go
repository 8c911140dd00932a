package main

import (
	"slices"
	"strings"
)

// The isolation boundary of DESIGN.md: what each module may not import.

const project = "github.com/alphaswarm/controller/"

// backendSDKs lists, per backend, the import path prefixes of its own SDK.
// Only that backend's plugin may import them.
var backendSDKs = map[string][]string{
	"compose":    {"github.com/docker/docker", "github.com/moby/moby", "github.com/docker/go-connections"},
	"kubernetes": {"k8s.io/client-go", "k8s.io/api", "k8s.io/apimachinery"},
	"aws":        {"github.com/aws/aws-sdk-go-v2", "github.com/aws/aws-sdk-go", "github.com/aws/smithy-go"},
	"azure":      {"github.com/Azure/azure-sdk-for-go"},
	"gcp":        {"cloud.google.com/go", "google.golang.org/api"},
}

// rule forbids imports under prefix, for a reason.
type rule struct {
	prefix string
	why    string
}

// rulesFor returns the rules for the module at path (relative to the
// workspace root, such as "sdk" or "plugins/aws"). Modules the design does
// not name (tools) have none.
func rulesFor(module string) []rule {
	var rules []rule
	forbid := func(prefix, why string) { rules = append(rules, rule{prefix, why}) }
	sdks := func(except, who string) {
		for _, name := range sortedBackends() {
			if name == except {
				continue
			}
			for _, p := range backendSDKs[name] {
				forbid(p, who+" imports no "+name+" SDK")
			}
		}
	}
	switch {
	case module == "core":
		forbid(project+"sdk", "core imports nothing of the project")
		forbid(project+"host", "core imports nothing of the project")
		forbid(project+"plugins", "core imports nothing of the project")
		forbid(project+"examples", "core imports nothing of the project")
		sdks("", "core")
	case module == "sdk":
		forbid(project+"host", "sdk imports neither host nor plugins")
		forbid(project+"plugins", "sdk imports neither host nor plugins")
		forbid(project+"examples", "sdk imports neither host nor plugins")
		sdks("", "sdk")
	case module == "host":
		forbid(project+"plugins", "host imports no plugin")
		forbid(project+"examples", "host imports no plugin")
		sdks("", "host")
	case module == "examples":
		forbid(project+"host", "examples import only core and sdk")
		forbid(project+"plugins", "examples import only core and sdk")
		sdks("", "examples")
	case strings.HasPrefix(module, "plugins/"):
		name := strings.TrimPrefix(module, "plugins/")
		forbid(project+"host", "no plugin imports host")
		forbid(project+"examples", "no plugin imports examples")
		for _, other := range sortedBackends() {
			if other != name {
				forbid(project+"plugins/"+other, "a plugin imports no other plugin")
			}
		}
		sdks(name, "plugin "+name)
	}
	return rules
}

func sortedBackends() []string {
	names := make([]string, 0, len(backendSDKs))
	for n := range backendSDKs {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// violation returns the rule dep breaks, if any.
func violation(rules []rule, dep string) (rule, bool) {
	for _, r := range rules {
		if dep == r.prefix || strings.HasPrefix(dep, r.prefix+"/") {
			return r, true
		}
	}
	return rule{}, false
}
