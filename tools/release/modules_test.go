package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// fakeWorkspace writes a workspace with core, sdk (requiring core) and
// plugins/aws (requiring both), each required at v0.1.0 with replace lines
// as in the repository, commits it and tags core/v0.1.0.
func fakeWorkspace(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"go.work":     "go 1.26.0\n\nuse (\n\t./core\n\t./plugins/aws\n\t./sdk\n)\n",
		"core/go.mod": "module github.com/alphaswarm/controller/core\n\ngo 1.26\n",
		"sdk/go.mod": "module github.com/alphaswarm/controller/sdk\n\ngo 1.26.0\n\n" +
			"require (\n\tgithub.com/alphaswarm/controller/core v0.1.0\n\tgithub.com/google/go-cmp v0.7.0\n)\n\n" +
			"replace github.com/alphaswarm/controller/core => ../core\n",
		"plugins/aws/go.mod": "module github.com/alphaswarm/controller/plugins/aws\n\ngo 1.26.0\n\n" +
			"require (\n\tgithub.com/alphaswarm/controller/core v0.1.0\n\tgithub.com/alphaswarm/controller/sdk v0.1.0\n)\n\n" +
			"replace github.com/alphaswarm/controller/core => ../../core\n\nreplace github.com/alphaswarm/controller/sdk => ../../sdk\n",
	}
	for name, content := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git(t, dir, "init", "-q")
	// The tool's own git commands (tags -create) run without the test's
	// environment: give the repository an identity, as a machine without a
	// global git identity (CI's fresh HOME) has none.
	git(t, dir, "config", "user.name", "t")
	git(t, dir, "config", "user.email", "t@t")
	git(t, dir, "add", ".")
	git(t, dir, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "init")
	git(t, dir, "-c", "user.name=t", "-c", "user.email=t@t", "tag", "-a", "core/v0.1.0", "-m", "core v0.1.0")
	return dir
}

func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@t", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@t")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func TestSetVersion(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		args    []string
		want    map[string][]string // go.mod to the alphaswarm requirements in it
		wantErr string
	}{
		{
			name: "sdk only",
			args: []string{"sdk@v0.2.0"},
			want: map[string][]string{
				"sdk":         {"core v0.1.0"},
				"plugins/aws": {"core v0.1.0", "sdk v0.2.0"},
			},
		},
		{
			name: "core by module path, and sdk",
			args: []string{"github.com/alphaswarm/controller/core@v0.3.0", "sdk@v0.3.0-rc.1"},
			want: map[string][]string{
				"sdk":         {"core v0.3.0"},
				"plugins/aws": {"core v0.3.0", "sdk v0.3.0-rc.1"},
			},
		},
		{name: "no version", args: []string{"sdk"}, wantErr: `want vMAJOR.MINOR.PATCH`},
		{name: "version without v", args: []string{"sdk@0.2.0"}, wantErr: `want vMAJOR.MINOR.PATCH`},
		{name: "short version", args: []string{"sdk@v1.2"}, wantErr: `want vMAJOR.MINOR.PATCH`},
		{name: "unreleased module", args: []string{"tools@v0.2.0"}, wantErr: `check module "tools": not a released module`},
		{name: "nothing", args: nil, wantErr: "setversion needs MODULE@vX.Y.Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := fakeWorkspace(t)
			var out bytes.Buffer
			err := run(append([]string{"setversion", "-root", dir}, tt.args...), &out)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("setversion %v = %v, want an error containing %q", tt.args, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := map[string][]string{}
			for _, m := range []string{"sdk", "plugins/aws"} {
				f, _, err := readMod(dir, m)
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range f.Require {
					if sib, ok := strings.CutPrefix(r.Mod.Path, modulePrefix); ok {
						got[m] = append(got[m], sib+" "+r.Mod.Version)
					}
				}
				if len(f.Replace) == 0 {
					t.Errorf("%s/go.mod lost its replace lines", m)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("requirements after setversion %v (-want +got):\n%s", tt.args, diff)
			}
		})
	}
}

func TestTags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		args     []string
		setFirst []string // setversion arguments run before
		want     string
		wantErr  string
	}{
		{
			name:     "sdk and aws on a tagged core",
			args:     []string{"-version", "v0.2.0", "sdk", "plugins/aws"},
			setFirst: []string{"sdk@v0.2.0"},
			want: "git tag -a sdk/v0.2.0 -m \"sdk v0.2.0\"\ngit tag -a plugins/aws/v0.2.0 -m \"plugins/aws v0.2.0\"\n" +
				"git push origin sdk/v0.2.0 plugins/aws/v0.2.0\n",
		},
		{
			name:    "aws requiring an sdk that is not tagged",
			args:    []string{"-version", "v0.2.0", "plugins/aws"},
			wantErr: "check plugins/aws/go.mod: it requires sdk v0.1.0, which is neither tagged nor in this release (run: release setversion sdk@v0.2.0)",
		},
		{
			name:     "aws without the sdk it requires at this version",
			args:     []string{"-version", "v0.2.0", "plugins/aws"},
			setFirst: []string{"sdk@v0.2.0"},
			wantErr:  "check plugins/aws/go.mod: it requires sdk v0.2.0, which is neither tagged nor in this release (tag sdk in this release too)",
		},
		{
			name:    "a tag that exists",
			args:    []string{"-version", "v0.1.0", "core"},
			wantErr: "plan tag core/v0.1.0: it exists already",
		},
		{
			name:    "a bad version",
			args:    []string{"-version", "latest", "core"},
			wantErr: `check version "latest"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := fakeWorkspace(t)
			if tt.setFirst != nil {
				if err := run(append([]string{"setversion", "-root", dir}, tt.setFirst...), &bytes.Buffer{}); err != nil {
					t.Fatal(err)
				}
			}
			var out bytes.Buffer
			err := run(append([]string{"tags", "-root", dir}, tt.args...), &out)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("tags %v = %v, want an error containing %q", tt.args, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, out.String()); diff != "" {
				t.Errorf("tags %v (-want +got):\n%s", tt.args, diff)
			}
		})
	}
}

// TestCreateTags makes the tags after the release commit, and refuses
// while the go.mod changes are not committed.
func TestCreateTags(t *testing.T) {
	t.Parallel()
	dir := fakeWorkspace(t)
	if err := run([]string{"setversion", "-root", dir, "core@v0.2.0", "sdk@v0.2.0"}, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	args := []string{"tags", "-root", dir, "-create", "-version", "v0.2.0", "core", "sdk"}
	if err := run(args, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "commit the go.mod changes first") {
		t.Fatalf("tags -create with uncommitted go.mod = %v, want a refusal", err)
	}
	git(t, dir, "commit", "-q", "-am", "release v0.2.0")
	if err := run(args, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	got := strings.Fields(git(t, dir, "tag", "--list", "--points-at", "HEAD"))
	if diff := cmp.Diff([]string{"core/v0.2.0", "sdk/v0.2.0"}, got); diff != "" {
		t.Errorf("tags at HEAD (-want +got):\n%s", diff)
	}
}
