package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRules(t *testing.T) {
	t.Parallel()
	cases := []struct {
		module, dep string
		bad         bool
	}{
		{"core", "encoding/json", false},
		{"core", project + "sdk", true},
		{"sdk", project + "core", false},
		{"sdk", project + "host/internal/pluginmgr", true},
		{"sdk", "k8s.io/client-go/kubernetes", true},
		{"host", project + "plugins/aws", true},
		{"host", "github.com/aws/aws-sdk-go-v2/service/ecs", true},
		{"host", "github.com/docker/docker/client", true},
		{"host", "google.golang.org/grpc", false},
		{"host", "google.golang.org/apiextensions", false}, // prefix match is per path segment
		{"plugins/aws", "github.com/aws/aws-sdk-go-v2/service/ecs", false},
		{"plugins/aws", "cloud.google.com/go/run/apiv2", true},
		{"plugins/aws", project + "host", true},
		{"plugins/aws", project + "plugins/gcp", true},
		{"plugins/azure", "github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/appcontainers/armappcontainers/v3", false},
		{"host", "github.com/Azure/azure-sdk-for-go/sdk/azidentity", true},
		{"plugins/kubernetes", "github.com/Azure/azure-sdk-for-go/sdk/azcore", true},
		{"plugins/gcp", "cloud.google.com/go/run/apiv2", false},
		{"plugins/gcp", "google.golang.org/api/option", false},
		{"plugins/gcp", project + "plugins/kubernetes", true},
		{"host", "cloud.google.com/go/secretmanager/apiv1", true},
		{"sdk", "google.golang.org/api/option", true},
		{"examples", project + "host/cmd/swarmctl", true},
		{"tools", project + "host", false},
	}
	for _, tc := range cases {
		_, bad := violation(rulesFor(tc.module), tc.dep)
		if bad != tc.bad {
			t.Errorf("%s importing %s: forbidden=%v, want %v", tc.module, tc.dep, bad, tc.bad)
		}
	}
}

// TestLintFindsForbiddenImportAndMissingDoc builds a two-module workspace
// in which core imports host and one package has no doc, and expects exactly
// those two findings.
func TestLintFindsForbiddenImportAndMissingDoc(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	write := func(path, content string) {
		t.Helper()
		full := filepath.Join(root, path)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.work", "go 1.26\n\nuse (\n\t./core\n\t./host\n)\n")
	write("core/go.mod", "module github.com/alphaswarm/controller/core\n\ngo 1.26\n\nrequire github.com/alphaswarm/controller/host v0.0.0\n\nreplace github.com/alphaswarm/controller/host => ../host\n")
	write("core/core.go", "// Package core is here.\npackage core\n\nimport _ \"github.com/alphaswarm/controller/host/leak\"\n")
	write("host/go.mod", "module github.com/alphaswarm/controller/host\n\ngo 1.26\n")
	write("host/leak/leak.go", "// Package leak is here.\npackage leak\n")
	write("host/ok.go", "package host\n\nimport _ \"encoding/json\"\n")

	found, err := lint(root)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"github.com/alphaswarm/controller/core: imports github.com/alphaswarm/controller/host/leak (core imports nothing of the project)",
		"github.com/alphaswarm/controller/host: no package doc comment (say what the package is for)",
	}
	if diff := cmp.Diff(want, found); diff != "" {
		t.Errorf("lint (-want +got):\n%s", diff)
	}
}

func TestLintThisRepositoryIsClean(t *testing.T) {
	t.Parallel()
	found, err := lint(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if len(found) > 0 {
		t.Errorf("findings:\n%s", strings.Join(found, "\n"))
	}
}
