package pluginmgr

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func touch(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("#!"), 0o755); err != nil {
		t.Fatal(err)
	}
}

func TestDiscover(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	platform := runtime.GOOS + "_" + runtime.GOARCH
	release := func(name, version, plat string) string {
		p := filepath.Join(dir, name, version, plat, BinaryPrefix+name)
		touch(t, p)
		return p
	}
	release("aws", "0.9.0", platform)
	release("aws", "0.10.0", platform)
	release("aws", "0.11.0-rc1", platform) // a pre-release sorts below 0.11.0 but above 0.10.0
	release("gcp", "1.0.0", "plan9_mips")  // nothing for this platform
	release("azure", "2.0.0", platform)
	dev := filepath.Join(dir, BinaryPrefix+"azure")
	touch(t, dev)
	touch(t, filepath.Join(dir, "README.md"))
	if err := os.MkdirAll(filepath.Join(dir, "kubernetes", "latest"), 0o755); err != nil {
		t.Fatal(err)
	}

	got, problems := Discover([]string{filepath.Join(dir, "missing"), dir})
	want := []Plugin{
		{Name: "aws", Version: "0.11.0-rc1", Path: filepath.Join(dir, "aws", "0.11.0-rc1", platform, BinaryPrefix+"aws")},
		{Name: "azure", Path: dev, Dev: true},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Discover (-want +got):\n%s", diff)
	}
	if len(problems) != 1 || !strings.Contains(problems[0].Error(), "latest is not a version") {
		t.Errorf("problems = %v, want one about kubernetes/latest", problems)
	}
}

func TestParseVersionOrder(t *testing.T) {
	t.Parallel()
	order := []string{"0.9.9", "v0.10.0-beta", "0.10.0", "1.0.0"}
	for i := 1; i < len(order); i++ {
		a := Plugin{Version: order[i]}
		b := Plugin{Version: order[i-1]}
		if !better(a, b) {
			t.Errorf("%s should sort above %s", order[i], order[i-1])
		}
	}
	for _, bad := range []string{"1.0", "latest", "1.0.0-", "1.x.0"} {
		if _, ok := parseVersion(bad); ok {
			t.Errorf("parseVersion(%q) accepted it", bad)
		}
	}
}
