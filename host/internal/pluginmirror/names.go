package pluginmirror

import (
	"errors"
	"fmt"
	"regexp"
	"runtime"
	"slices"
	"strings"

	"golang.org/x/mod/semver"
)

// The kinds of failure, for errors.Is.
var (
	ErrNoVersion        = errors.New("no such version")
	ErrNoPlatform       = errors.New("no archive for the platform")
	ErrMirror           = errors.New("mirror unusable")
	ErrMissingSignature = errors.New("missing signature")
	ErrBadSignature     = errors.New("bad signature")
	ErrUntrustedKey     = errors.New("untrusted key")
	ErrChecksum         = errors.New("checksum mismatch")
	ErrArchive          = errors.New("archive refused")
)

var _ error = (*Error)(nil)

// Error is a failure to get one plugin release for one platform.
type Error struct {
	Plugin, Version, Platform string
	Err                       error
}

func (e *Error) Error() string {
	v := e.Version
	if v == "" {
		v = "(newest version)"
	}
	return fmt.Sprintf("plugin %q %s for %s: %v", e.Plugin, v, e.Platform, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

var (
	nameRE     = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
	platformRE = regexp.MustCompile(`^[a-z0-9]{1,16}_[a-z0-9]{1,16}$`)
)

// CheckName returns an error unless name is a plugin name: lower-case
// letters, digits and dashes, as in swarm-backend-<name>.
func CheckName(name string) error {
	if !nameRE.MatchString(name) {
		return fmt.Errorf("check plugin name %q: want lower-case letters, digits and dashes", name)
	}
	return nil
}

// CheckPlatform returns an error unless p reads os_arch, such as linux_amd64.
func CheckPlatform(p string) error {
	if !platformRE.MatchString(p) {
		return fmt.Errorf("check platform %q: want os_arch, such as linux_amd64", p)
	}
	return nil
}

// CurrentPlatform is the os_arch swarmctl runs on.
func CurrentPlatform() string { return runtime.GOOS + "_" + runtime.GOARCH }

// CheckVersion returns an error unless v is a full semantic version
// without a leading v or build metadata, such as 1.2.3 or 1.3.0-rc.1.
func CheckVersion(v string) error {
	if !semver.IsValid("v"+v) || semver.Canonical("v"+v) != "v"+v {
		return fmt.Errorf("check version %q: want MAJOR.MINOR.PATCH[-PRERELEASE], such as 1.2.3", v)
	}
	return nil
}

// ParseRef splits NAME[@VERSION]; a leading v of the version is dropped.
func ParseRef(ref string) (name, version string, err error) {
	name, version, at := strings.Cut(ref, "@")
	version = strings.TrimPrefix(version, "v")
	if err := CheckName(name); err != nil {
		return "", "", err
	}
	if at && version == "" {
		return "", "", fmt.Errorf("%q names no version after @: give NAME@X.Y.Z, or NAME alone for the newest", ref)
	}
	if version != "" {
		if err := CheckVersion(version); err != nil {
			return "", "", err
		}
	}
	return name, version, nil
}

// ArchiveName is the file name of a plugin's archive for one platform.
func ArchiveName(name, version, platform string) string {
	return fmt.Sprintf("swarm-backend-%s_%s_%s.zip", name, version, platform)
}

// SumsName is the file name of a plugin release's SHA256SUMS.
func SumsName(name, version string) string {
	return fmt.Sprintf("swarm-backend-%s_%s_SHA256SUMS", name, version)
}

// BinaryName is the plugin binary's name inside its archive.
func BinaryName(name, platform string) string {
	if strings.HasPrefix(platform, "windows_") {
		return "swarm-backend-" + name + ".exe"
	}
	return "swarm-backend-" + name
}

// pickVersion chooses want from versions, or without want the highest
// release that is not a pre-release. Keys that are not versions are
// ignored.
func pickVersion(versions []string, want string) (string, error) {
	var valid []string
	for _, v := range versions {
		if CheckVersion(v) == nil {
			valid = append(valid, v)
		}
	}
	slices.SortFunc(valid, func(a, b string) int { return semver.Compare("v"+b, "v"+a) })
	if want != "" {
		if slices.Contains(valid, want) {
			return want, nil
		}
		return "", fmt.Errorf("%w: the mirror has %s", ErrNoVersion, listOrNone(valid))
	}
	for _, v := range valid {
		if semver.Prerelease("v"+v) == "" {
			return v, nil
		}
	}
	return "", fmt.Errorf("%w: the mirror has no release that is not a pre-release (it has %s); name a version exactly", ErrNoVersion, listOrNone(valid))
}

func listOrNone(vs []string) string {
	if len(vs) == 0 {
		return "none"
	}
	return strings.Join(vs, ", ")
}
