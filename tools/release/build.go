package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"golang.org/x/mod/semver"
)

// Platforms, as os_arch.
var (
	cliPlatforms    = []string{"linux_amd64", "linux_arm64", "darwin_amd64", "darwin_arm64", "windows_amd64"}
	pluginPlatforms = []string{"linux_amd64", "linux_arm64", "darwin_amd64", "darwin_arm64"}
)

// product is one thing released as per-platform zips with one SHA256SUMS.
type product struct {
	name       string   // file name prefix: swarmctl, swarm-backend-aws
	pkg        string   // the main package, relative to the root: ./plugins/aws/cmd/swarm-backend-aws
	versionVar string   // the variable -X sets to the version
	platforms  []string // os_arch
}

// release is what one build makes.
type release struct {
	root     string // the workspace root
	dir      string // dist/<version>
	version  string // v0.2.0
	epoch    time.Time
	signer   *openpgp.Entity
	products []product
}

// stringList is a repeatable flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// cmdBuild builds, packs, sums and signs a release into <out>/<version>.
func cmdBuild(args []string, stdout io.Writer) error {
	fs := newFlags("build")
	version := fs.String("version", "", "the release version, vX.Y.Z")
	key := fs.String("key", os.Getenv("RELEASE_SIGNING_KEY"), "armored OpenPGP private key file (default $RELEASE_SIGNING_KEY)")
	out := fs.String("out", "dist", "directory the release directory <version> is made in")
	root := fs.String("root", ".", "the workspace root")
	platforms := fs.String("platforms", "", "comma-separated os_arch to build (default: every supported one)")
	cli := fs.String("cli", "./host/cmd/swarmctl", "swarmctl's package; empty for none")
	goproxy := fs.String("goproxy", "core,sdk", "comma-separated modules to serve from <version>/goproxy; empty for none")
	image := fs.Bool("image", false, "save the controller's image (scripts/image.sh) into the release")
	var plugins stringList
	fs.Var(&plugins, "plugin", "a plugin as NAME=PKG, such as aws=./plugins/aws/cmd/swarm-backend-aws (repeat)")
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	if *key == "" {
		return fmt.Errorf("build needs a signing key: set RELEASE_SIGNING_KEY to an armored OpenPGP private key file (release genkey makes one)")
	}
	r, err := newRelease(*root, *out, *version, *key)
	if err != nil {
		return err
	}
	if r.products, err = products(*cli, plugins, splitList(*platforms)); err != nil {
		return err
	}
	// Checked before the long build, written after it.
	if _, err := checkGoproxy(r.root, r.version, splitList(*goproxy)); err != nil {
		return err
	}
	if err := r.build(stdout); err != nil {
		return err
	}
	if mods := splitList(*goproxy); len(mods) > 0 {
		if err := writeGoproxy(r.root, r.version, mods, filepath.Join(r.dir, "goproxy"), r.epoch); err != nil {
			return err
		}
	}
	if *image {
		if err := r.saveImage(stdout); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "release %s in %s, signed by key %s\n", r.version, r.dir, r.signer.PrimaryKey.KeyIdString())
	return nil
}

// newRelease checks the version, loads the key and reads the commit time.
func newRelease(root, out, version, keyPath string) (*release, error) {
	if err := checkVersion(version); err != nil {
		return nil, err
	}
	signer, err := loadSigner(keyPath)
	if err != nil {
		return nil, err
	}
	epoch, err := sourceDateEpoch(root)
	if err != nil {
		return nil, err
	}
	absRoot, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("resolve root %s: %w", root, err)
	}
	return &release{root: absRoot, dir: filepath.Join(out, version), version: version, epoch: epoch, signer: signer}, nil
}

// checkVersion accepts a release version: vX.Y.Z, with an optional
// prerelease such as -rc.1, no build metadata.
func checkVersion(v string) error {
	if !semver.IsValid(v) || semver.Build(v) != "" || strings.Count(semver.Canonical(v), ".") < 2 || v != semver.Canonical(v) {
		return fmt.Errorf("check version %q: want vMAJOR.MINOR.PATCH, such as v0.2.0 or v0.2.0-rc.1", v)
	}
	return nil
}

// sourceDateEpoch is $SOURCE_DATE_EPOCH, else the time of the commit
// checked out at root.
func sourceDateEpoch(root string) (time.Time, error) {
	s := os.Getenv("SOURCE_DATE_EPOCH")
	if s == "" {
		cmd := exec.Command("git", "log", "-1", "--format=%ct")
		cmd.Dir = root
		out, err := cmd.Output()
		if err != nil {
			return time.Time{}, fmt.Errorf("read commit time in %s (or set SOURCE_DATE_EPOCH): %w", root, err)
		}
		s = strings.TrimSpace(string(out))
	}
	sec, err := strconv.ParseInt(s, 10, 64)
	if err != nil || sec < 0 {
		return time.Time{}, fmt.Errorf("read SOURCE_DATE_EPOCH %q: want seconds since 1970", s)
	}
	return time.Unix(sec, 0).UTC(), nil
}

var pluginName = regexp.MustCompile(`^[a-z][a-z0-9-]{0,62}$`)

// products lists the CLI (unless cli is empty) and the plugins, each
// restricted to the platforms asked for (all when none is).
func products(cli string, plugins, only []string) ([]product, error) {
	for _, p := range only {
		if !slices.Contains(cliPlatforms, p) {
			return nil, fmt.Errorf("check platform %q: want one of %s", p, strings.Join(cliPlatforms, ", "))
		}
	}
	keep := func(all []string) []string {
		if len(only) == 0 {
			return all
		}
		return slices.DeleteFunc(slices.Clone(all), func(p string) bool { return !slices.Contains(only, p) })
	}
	var ps []product
	if cli != "" {
		ps = append(ps, product{name: "swarmctl", pkg: cli, versionVar: modulePrefix + "host/internal/version.Version", platforms: keep(cliPlatforms)})
	}
	for _, p := range plugins {
		name, pkg, ok := strings.Cut(p, "=")
		if !ok || !pluginName.MatchString(name) || !strings.HasPrefix(pkg, "./") {
			return nil, fmt.Errorf("read -plugin %q: want NAME=./path/to/cmd/swarm-backend-NAME", p)
		}
		ps = append(ps, product{name: "swarm-backend-" + name, pkg: pkg, versionVar: pluginVersionVar(pkg, name), platforms: keep(pluginPlatforms)})
	}
	if len(ps) == 0 {
		return nil, fmt.Errorf("list products: nothing to build (no -cli and no -plugin)")
	}
	return ps, nil
}

// pluginVersionVar is the variable holding a plugin's version: "version" in
// the package above cmd/swarm-backend-<name>, as every plugin here has.
func pluginVersionVar(pkg, name string) string {
	base := strings.TrimSuffix(strings.TrimPrefix(pkg, "./"), "/cmd/swarm-backend-"+name)
	return modulePrefix + base + ".version"
}

// splitList splits a comma-separated list, dropping empty items.
func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// build makes every product's zips, SHA256SUMS and signature in r.dir,
// which it empties first.
func (r *release) build(stdout io.Writer) error {
	if err := os.RemoveAll(r.dir); err != nil {
		return fmt.Errorf("empty release directory: %w", err)
	}
	if err := os.MkdirAll(r.dir, 0o755); err != nil {
		return fmt.Errorf("create release directory: %w", err)
	}
	tmp, err := os.MkdirTemp("", "release-build-")
	if err != nil {
		return fmt.Errorf("create build directory: %w", err)
	}
	defer os.RemoveAll(tmp)
	for _, p := range r.products {
		if err := r.buildProduct(p, tmp, stdout); err != nil {
			return err
		}
	}
	return nil
}

// buildProduct cross-builds p for each of its platforms, then packs, sums
// and signs.
func (r *release) buildProduct(p product, tmp string, stdout io.Writer) error {
	ver := strings.TrimPrefix(r.version, "v")
	sums := map[string]string{}
	for _, plat := range p.platforms {
		goos, goarch, _ := strings.Cut(plat, "_")
		bin := p.name
		if goos == "windows" {
			bin += ".exe"
		}
		content, err := r.compile(p, goos, goarch, filepath.Join(tmp, plat, bin))
		if err != nil {
			return err
		}
		zipped, err := packZip(bin, content, r.epoch)
		if err != nil {
			return err
		}
		name := fmt.Sprintf("%s_%s_%s.zip", p.name, ver, plat)
		if err := writeFiles(r.dir, map[string][]byte{name: zipped}); err != nil {
			return err
		}
		sums[name] = sha256Hex(zipped)
		fmt.Fprintf(stdout, "%s\n", filepath.Join(r.dir, name))
	}
	return r.writeSums(p.name, sums)
}

// writeSums writes <name>_<ver>_SHA256SUMS over sums and its signature.
func (r *release) writeSums(name string, sums map[string]string) error {
	ver := strings.TrimPrefix(r.version, "v")
	sumsFile := fmt.Sprintf("%s_%s_SHA256SUMS", name, ver)
	body := shaSums(sums)
	sig, err := sign(r.signer, body, r.epoch)
	if err != nil {
		return fmt.Errorf("sign %s: %w", sumsFile, err)
	}
	return writeFiles(r.dir, map[string][]byte{sumsFile: body, sumsFile + ".sig": sig})
}

// compile builds p for goos/goarch into out and returns the binary.
func (r *release) compile(p product, goos, goarch, out string) ([]byte, error) {
	ldflags := fmt.Sprintf("-s -w -X %s=%s", p.versionVar, strings.TrimPrefix(r.version, "v"))
	cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false", "-ldflags", ldflags, "-o", out, p.pkg)
	cmd.Dir = r.root
	cmd.Env = append(os.Environ(), "GOOS="+goos, "GOARCH="+goarch, "CGO_ENABLED=0", "GOFLAGS=")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build %s for %s_%s: %w\n%s", p.name, goos, goarch, err, msg)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		return nil, fmt.Errorf("read built %s: %w", p.name, err)
	}
	return b, nil
}
