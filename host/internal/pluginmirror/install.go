package pluginmirror

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/alphaswarm/controller/host/internal/pluginmgr"
)

// Request names a plugin to take from a mirror.
type Request struct {
	Mirror *Mirror
	Keys   *Keyring
	Name   string
	// Version is exact; empty means the newest release.
	Version string
	// Platform is os_arch; empty means the running one.
	Platform string
}

func (r *Request) check() error {
	if r.Platform == "" {
		r.Platform = CurrentPlatform()
	}
	if err := CheckName(r.Name); err != nil {
		return err
	}
	if r.Version != "" {
		if err := CheckVersion(r.Version); err != nil {
			return err
		}
	}
	return CheckPlatform(r.Platform)
}

// Installed says what Install did.
type Installed struct {
	Name, Version, Platform string
	// Path is the installed binary; Hash its "sha256:<hex>".
	Path, Hash string
	// Replaced is true when this version was installed for the platform
	// already; it was replaced.
	Replaced bool
}

// Install installs the plugin of r into pluginDir and records its binary's
// hash in the lock file at lockPath. On any error the plugin directory and
// the lock file are left as they were.
func Install(ctx context.Context, r Request, pluginDir, lockPath string) (*Installed, error) {
	if err := r.check(); err != nil {
		return nil, fmt.Errorf("install plugin: %w", err)
	}
	lock, err := pluginmgr.ReadLockFile(lockPath)
	if err != nil {
		return nil, fmt.Errorf("install plugin %q: %w", r.Name, err)
	}
	version, err := r.Mirror.Resolve(ctx, r.Name, r.Version)
	if err != nil {
		return nil, &Error{Plugin: r.Name, Version: r.Version, Platform: r.Platform, Err: err}
	}
	a, err := r.Mirror.Fetch(ctx, r.Keys, r.Name, version, r.Platform)
	if err != nil {
		return nil, err
	}
	defer a.Close()
	dest := filepath.Join(pluginDir, r.Name, version, r.Platform)
	p, err := place(dest, BinaryName(r.Name, r.Platform), a)
	if err != nil {
		return nil, &Error{Plugin: r.Name, Version: version, Platform: r.Platform, Err: err}
	}
	if lock == nil {
		lock = &pluginmgr.LockFile{}
	}
	Record(lock, r.Name, version, p.hash)
	if err := lock.Write(lockPath); err != nil {
		p.undo()
		return nil, &Error{Plugin: r.Name, Version: version, Platform: r.Platform, Err: err}
	}
	p.commit()
	return &Installed{Name: r.Name, Version: version, Platform: r.Platform,
		Path: filepath.Join(dest, BinaryName(r.Name, r.Platform)), Hash: p.hash, Replaced: p.old != ""}, nil
}

// Record adds hashes to name's entry in lock. An entry for another version
// is replaced: its hashes were for other binaries.
func Record(lock *pluginmgr.LockFile, name, version string, hashes ...string) {
	e := lock.Find(name)
	if e == nil {
		lock.Plugins = append(lock.Plugins, pluginmgr.LockedPlugin{Name: name})
		e = &lock.Plugins[len(lock.Plugins)-1]
	}
	if e.Version != version {
		e.Version, e.Hashes = version, nil
	}
	e.Hashes = append(e.Hashes, hashes...)
	slices.Sort(e.Hashes)
	e.Hashes = slices.Compact(e.Hashes)
}

// placement is a binary renamed into place, not yet committed.
type placement struct {
	dest    string
	hash    string
	old     string // the directory that dest was moved to, if any
	created string // the highest directory created for dest, if any
	placed  bool   // dest is the new directory
}

// place unpacks a into a temporary directory beside dest and renames it to
// dest, moving aside what was there.
func place(dest, binName string, a *Archive) (*placement, error) {
	p := &placement{dest: dest}
	parent := filepath.Dir(dest)
	created, err := mkdirAll(parent)
	if err != nil {
		return nil, err
	}
	p.created = created
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dest)+".new-")
	if err != nil {
		p.undo()
		return nil, fmt.Errorf("create staging directory: %w", err)
	}
	if p.hash, err = writeBinary(tmp, binName, a); err == nil {
		err = p.swap(tmp)
	}
	if err != nil {
		os.RemoveAll(tmp)
		p.undo()
		return nil, err
	}
	return p, nil
}

func writeBinary(dir, binName string, a *Archive) (string, error) {
	if err := os.Chmod(dir, 0o755); err != nil {
		return "", fmt.Errorf("prepare staging directory: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, binName), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o755)
	if err != nil {
		return "", fmt.Errorf("create plugin binary: %w", err)
	}
	sum, err := a.extract(f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("write plugin binary: %w", cerr)
	}
	return sum, err
}

// swap moves dest aside, if it exists, and renames tmp to dest.
func (p *placement) swap(tmp string) error {
	if _, err := os.Lstat(p.dest); err == nil {
		p.old = tmp + ".old"
		if err := os.Rename(p.dest, p.old); err != nil {
			p.old = ""
			return fmt.Errorf("move aside the installed plugin: %w", err)
		}
	}
	if err := os.Rename(tmp, p.dest); err != nil {
		return fmt.Errorf("install plugin directory: %w", err)
	}
	p.placed = true
	return nil
}

// undo puts back what was there before place.
func (p *placement) undo() {
	if p.placed {
		os.RemoveAll(p.dest)
	}
	if p.old != "" {
		os.Rename(p.old, p.dest)
	}
	if p.created != "" {
		os.RemoveAll(p.created)
	}
}

// commit removes what place moved aside.
func (p *placement) commit() {
	if p.old != "" {
		os.RemoveAll(p.old)
	}
}

// mkdirAll creates dir and its missing parents, mode 0755, and returns the
// highest directory it created ("" if dir existed).
func mkdirAll(dir string) (string, error) {
	top := ""
	for d := dir; ; d = filepath.Dir(d) {
		_, err := os.Lstat(d)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrNotExist) || filepath.Dir(d) == d {
			return "", fmt.Errorf("check plugin directory: %w", err)
		}
		top = d
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		if top != "" {
			os.RemoveAll(top)
		}
		return "", fmt.Errorf("create plugin directory: %w", err)
	}
	return top, nil
}

// Hashes fetches and verifies the archive of name at version for each
// platform, and returns the hashes of the binaries inside, in platform
// order, without writing anything.
func Hashes(ctx context.Context, m *Mirror, keys *Keyring, name, version string, platforms []string) ([]string, error) {
	hashes := make([]string, 0, len(platforms))
	for _, p := range platforms {
		h, err := hashOne(ctx, m, keys, name, version, p)
		if err != nil {
			return nil, err
		}
		hashes = append(hashes, h)
	}
	return hashes, nil
}

func hashOne(ctx context.Context, m *Mirror, keys *Keyring, name, version, platform string) (string, error) {
	if err := CheckPlatform(platform); err != nil {
		return "", &Error{Plugin: name, Version: version, Platform: platform, Err: err}
	}
	a, err := m.Fetch(ctx, keys, name, version, platform)
	if err != nil {
		return "", err
	}
	defer a.Close()
	return a.Extract(io.Discard)
}
