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
	"kubernetes": {"k8s.io/client-go", "k8s.io/api", "k8s.io/apimachinery", "k8s.io/metrics"},
	"aws":        {"github.com/aws/aws-sdk-go-v2", "github.com/aws/aws-sdk-go", "github.com/aws/smithy-go"},
	"azure":      {"github.com/Azure/azure-sdk-for-go"},
	"gcp":        {"cloud.google.com/go", "google.golang.org/api"},
}

// rule forbids imports under prefix, for a reason.
type rule struct {
	prefix string
	why    string
}

// projectRules says which of the project's modules each module may not
// import, and why.
var projectRules = map[string]struct {
	forbid []string
	why    string
}{
	"core":     {[]string{"sdk", "host", "plugins", "examples"}, "core imports nothing of the project"},
	"sdk":      {[]string{"host", "plugins", "examples"}, "sdk imports neither host nor plugins"},
	"host":     {[]string{"plugins", "examples"}, "host imports no plugin"},
	"examples": {[]string{"host", "plugins"}, "examples import only core and sdk"},
}

// rulesFor returns the rules for the module at path (relative to the
// workspace root, such as "sdk" or "plugins/aws"). Modules the design does
// not name (tools) have none.
func rulesFor(module string) []rule {
	var rules []rule
	own := "" // the backend whose SDK the module may import
	if pr, ok := projectRules[module]; ok {
		for _, f := range pr.forbid {
			rules = append(rules, rule{project + f, pr.why})
		}
	} else if name, ok := strings.CutPrefix(module, "plugins/"); ok {
		own = name
		rules = append(rules, rule{project + "host", "no plugin imports host"}, rule{project + "examples", "no plugin imports examples"})
		for _, other := range sortedBackends() {
			if other != name {
				rules = append(rules, rule{project + "plugins/" + other, "a plugin imports no other plugin"})
			}
		}
	} else {
		return nil
	}
	for _, name := range sortedBackends() {
		if name == own {
			continue
		}
		for _, p := range backendSDKs[name] {
			rules = append(rules, rule{p, module + " imports no " + name + " SDK"})
		}
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
