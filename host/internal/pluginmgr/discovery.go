package pluginmgr

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
)

// BinaryPrefix starts the file name of every backend plugin binary.
const BinaryPrefix = "swarm-backend-"

// Plugin is one plugin binary found on disk.
type Plugin struct {
	Name string `json:"name"`
	// Version comes from the directory layout; it is empty for a
	// development build, whose version the plugin itself reports.
	Version string `json:"version,omitempty"`
	Path    string `json:"path"`
	Dev     bool   `json:"dev"`
}

// Discover scans dirs for plugin binaries for this machine's OS and
// architecture and returns one per name: the development build if there is
// one, otherwise the highest version. Directories that do not exist are
// skipped; entries that look like plugins but are not usable are reported as
// errors beside the plugins found.
func Discover(dirs []string) ([]Plugin, []error) {
	var found []Plugin
	var problems []error
	for _, dir := range dirs {
		entries, err := os.ReadDir(dir)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			problems = append(problems, fmt.Errorf("scan plugin directory: %w", err))
			continue
		}
		for _, e := range entries {
			path := filepath.Join(dir, e.Name())
			switch {
			case !e.IsDir() && strings.HasPrefix(e.Name(), BinaryPrefix):
				found = append(found, Plugin{Name: strings.TrimPrefix(e.Name(), BinaryPrefix), Path: path, Dev: true})
			case e.IsDir():
				ps, errs := releases(path, e.Name())
				found, problems = append(found, ps...), append(problems, errs...)
			}
		}
	}
	return choose(found), problems
}

// releases lists <dir>/<version>/<os>_<arch>/swarm-backend-<name>.
func releases(dir, name string) ([]Plugin, []error) {
	versions, err := os.ReadDir(dir)
	if err != nil {
		return nil, []error{fmt.Errorf("scan plugin %q: %w", name, err)}
	}
	platform := runtime.GOOS + "_" + runtime.GOARCH
	var out []Plugin
	var problems []error
	for _, v := range versions {
		if !v.IsDir() {
			continue
		}
		if _, ok := parseVersion(v.Name()); !ok {
			problems = append(problems, fmt.Errorf("plugin %q: %s is not a version such as 1.2.3", name, filepath.Join(dir, v.Name())))
			continue
		}
		path := filepath.Join(dir, v.Name(), platform, BinaryPrefix+name)
		if _, err := os.Stat(path); err != nil {
			continue // released for other platforms only
		}
		out = append(out, Plugin{Name: name, Version: v.Name(), Path: path})
	}
	return out, problems
}

// choose keeps one plugin per name: a dev build, else the highest version.
func choose(all []Plugin) []Plugin {
	best := map[string]Plugin{}
	for _, p := range all {
		cur, ok := best[p.Name]
		if !ok || better(p, cur) {
			best[p.Name] = p
		}
	}
	out := make([]Plugin, 0, len(best))
	for _, p := range best {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b Plugin) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

func better(a, b Plugin) bool {
	if a.Dev != b.Dev {
		return a.Dev
	}
	va, _ := parseVersion(a.Version)
	vb, _ := parseVersion(b.Version)
	return slices.Compare(va, vb) > 0
}

// parseVersion reads MAJOR.MINOR.PATCH with an optional leading v; a
// pre-release suffix sorts below the release.
func parseVersion(s string) ([]int, bool) {
	s = strings.TrimPrefix(s, "v")
	core, pre, hasPre := strings.Cut(s, "-")
	parts := strings.Split(core, ".")
	if len(parts) != 3 || (hasPre && pre == "") {
		return nil, false
	}
	out := make([]int, 0, 4)
	for _, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return nil, false
		}
		out = append(out, n)
	}
	if hasPre {
		out = append(out, 0)
	} else {
		out = append(out, 1)
	}
	return out, true
}
