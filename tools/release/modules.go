package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/mod/modfile"
)

// moduleFolder turns a module named by folder ("sdk", "plugins/aws") or by
// path into its folder, if it is a released module.
func moduleFolder(name string) (string, error) {
	f := strings.TrimSuffix(strings.TrimPrefix(name, modulePrefix), "/")
	if !slices.Contains(releasedModules, f) {
		return "", fmt.Errorf("check module %q: not a released module (%s)", name, strings.Join(releasedModules, ", "))
	}
	return f, nil
}

// workspaceModules lists the module folders of root's go.work.
func workspaceModules(root string) ([]string, error) {
	path := filepath.Join(root, "go.work")
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read workspace: %w", err)
	}
	wf, err := modfile.ParseWork(path, b, nil)
	if err != nil {
		return nil, fmt.Errorf("parse workspace: %w", err)
	}
	var dirs []string
	for _, u := range wf.Use {
		dirs = append(dirs, filepath.ToSlash(filepath.Clean(u.Path)))
	}
	return dirs, nil
}

// readMod parses the go.mod of the module in folder dir under root.
func readMod(root, dir string) (*modfile.File, string, error) {
	path := filepath.Join(root, dir, "go.mod")
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, "", fmt.Errorf("read module file: %w", err)
	}
	f, err := modfile.Parse(path, b, nil)
	if err != nil {
		return nil, "", fmt.Errorf("parse module file: %w", err)
	}
	return f, path, nil
}

// cmdSetVersion sets the required version of modules in every go.mod of
// the workspace that requires them, for a release commit.
func cmdSetVersion(args []string, stdout io.Writer) error {
	fs := newFlags("setversion")
	root := fs.String("root", ".", "the workspace root")
	if err := parseFlags(fs, args, true); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("setversion needs MODULE@vX.Y.Z: %w", errUsage)
	}
	want := map[string]string{} // module path to version
	for _, a := range fs.Args() {
		name, ver, _ := strings.Cut(a, "@")
		folder, err := moduleFolder(name)
		if err != nil {
			return err
		}
		if err := checkVersion(ver); err != nil {
			return fmt.Errorf("read %q: %w", a, err)
		}
		want[modulePrefix+folder] = ver
	}
	return setVersions(*root, want, stdout)
}

// setVersions rewrites the requirements on want's modules in every go.mod
// of the workspace, printing each change.
func setVersions(root string, want map[string]string, stdout io.Writer) error {
	dirs, err := workspaceModules(root)
	if err != nil {
		return err
	}
	for _, dir := range dirs {
		f, path, err := readMod(root, dir)
		if err != nil {
			return err
		}
		changed := false
		for _, req := range f.Require {
			ver, ok := want[req.Mod.Path]
			if !ok || req.Mod.Version == ver {
				continue
			}
			fmt.Fprintf(stdout, "%s/go.mod: %s %s -> %s\n", dir, strings.TrimPrefix(req.Mod.Path, modulePrefix), req.Mod.Version, ver)
			if err := f.AddRequire(req.Mod.Path, ver); err != nil {
				return fmt.Errorf("set %s in %s: %w", req.Mod.Path, path, err)
			}
			changed = true
		}
		if !changed {
			continue
		}
		out, err := f.Format()
		if err != nil {
			return fmt.Errorf("format %s: %w", path, err)
		}
		if err := os.WriteFile(path, out, 0o644); err != nil {
			return fmt.Errorf("write module file: %w", err)
		}
	}
	return nil
}

// cmdTags prints, or with -create makes, the git tags of a release: one
// <module>/<version> per module, after checking that the requirements
// between modules name versions that exist.
func cmdTags(args []string, stdout io.Writer) error {
	fs := newFlags("tags")
	root := fs.String("root", ".", "the workspace root")
	version := fs.String("version", "", "the version to tag, vX.Y.Z")
	create := fs.Bool("create", false, "make the tags (annotated, at HEAD) instead of printing the commands")
	if err := parseFlags(fs, args, true); err != nil {
		return err
	}
	if err := checkVersion(*version); err != nil {
		return err
	}
	mods := fs.Args()
	if len(mods) == 0 {
		mods = releasedModules
	}
	tags, err := planTags(*root, *version, mods)
	if err != nil {
		return err
	}
	if *create {
		return createTags(*root, tags, stdout)
	}
	for _, t := range tags {
		fmt.Fprintf(stdout, "git tag -a %s -m %q\n", t, strings.Replace(t, "/v", " v", 1))
	}
	fmt.Fprintf(stdout, "git push origin %s\n", strings.Join(tags, " "))
	return nil
}

// planTags returns the tags for mods at version, or an error when one
// exists already or a module requires a sibling at a version that is
// neither tagged nor part of this release.
func planTags(root, version string, mods []string) ([]string, error) {
	existing, err := gitTags(root)
	if err != nil {
		return nil, err
	}
	var folders, tags []string
	for _, m := range mods {
		folder, err := moduleFolder(m)
		if err != nil {
			return nil, err
		}
		tag := folder + "/" + version
		if slices.Contains(existing, tag) {
			return nil, fmt.Errorf("plan tag %s: it exists already", tag)
		}
		folders, tags = append(folders, folder), append(tags, tag)
	}
	for _, folder := range folders {
		if err := checkRequirements(root, folder, version, folders, existing); err != nil {
			return nil, err
		}
	}
	return tags, nil
}

// checkRequirements checks that each sibling folder requires is tagged, or
// is released now at version.
func checkRequirements(root, folder, version string, releasing, existing []string) error {
	f, _, err := readMod(root, folder)
	if err != nil {
		return err
	}
	for _, req := range f.Require {
		sib, ok := strings.CutPrefix(req.Mod.Path, modulePrefix)
		if !ok {
			continue
		}
		now := slices.Contains(releasing, sib) && req.Mod.Version == version
		if now || slices.Contains(existing, sib+"/"+req.Mod.Version) {
			continue
		}
		fix := fmt.Sprintf("run: release setversion %s@%s", sib, version)
		if req.Mod.Version == version {
			fix = fmt.Sprintf("tag %s in this release too", sib)
		}
		return fmt.Errorf("check %s/go.mod: it requires %s %s, which is neither tagged nor in this release (%s)",
			folder, sib, req.Mod.Version, fix)
	}
	return nil
}

// gitTags lists the repository's tags.
func gitTags(root string) ([]string, error) {
	cmd := exec.Command("git", "tag", "--list")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("list git tags in %s: %w", root, err)
	}
	return strings.Fields(string(out)), nil
}

// createTags makes annotated tags at HEAD, refusing while a go.mod has
// changes that are not committed (the tags would not carry them).
func createTags(root string, tags []string, stdout io.Writer) error {
	st := exec.Command("git", "status", "--porcelain", "--", "go.mod", "*/go.mod")
	st.Dir = root
	out, err := st.Output()
	if err != nil {
		return fmt.Errorf("check go.mod files in %s: %w", root, err)
	}
	if len(strings.TrimSpace(string(out))) > 0 {
		return fmt.Errorf("create tags: commit the go.mod changes first:\n%s", out)
	}
	for _, t := range tags {
		cmd := exec.Command("git", "tag", "-a", t, "-m", strings.Replace(t, "/v", " v", 1))
		cmd.Dir = root
		if msg, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("create tag %s: %w\n%s", t, err, msg)
		}
		fmt.Fprintln(stdout, t)
	}
	return nil
}
