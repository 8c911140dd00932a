package cli

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strings"
	"time"

	"github.com/alphaswarm/controller/host/internal/pluginmgr"
	"github.com/alphaswarm/controller/host/internal/pluginmirror"
)

// nameParams lets "plugins lock -mirror" take plugin names anywhere among
// its flags.
var nameParams = slices.Repeat([]string{"[NAME[@VERSION]]"}, 64)

// mirrorFlags are the flags of the commands that read a mirror.
type mirrorFlags struct {
	mirror, keys string
	timeout      time.Duration
	platforms    stringList
}

func (f *mirrorFlags) register(fs *flag.FlagSet, pf *pluginFlags) {
	fs.StringVar(&f.mirror, "mirror", "", "the mirror: an https:// URL (http:// only on loopback) or a directory")
	fs.StringVar(&f.keys, "trusted-keys", "", "file of ASCII-armored OpenPGP public keys trusted to sign plugin releases")
	fs.DurationVar(&f.timeout, "timeout", 2*time.Minute, "bound on each request to a network mirror")
	fs.StringVar(&pf.lockFile, "lock", pluginmgr.DefaultLockFile, "the lock file (same as -lock-file)")
}

// open opens the mirror and reads the trusted keys; both are required.
func (f *mirrorFlags) open() (*pluginmirror.Mirror, *pluginmirror.Keyring, error) {
	if f.mirror == "" || f.keys == "" {
		return nil, nil, fmt.Errorf("read mirror flags: -mirror and -trusted-keys are both required")
	}
	keys, err := pluginmirror.LoadKeyring(f.keys)
	if err != nil {
		return nil, nil, err
	}
	m, err := pluginmirror.Open(f.mirror, pluginmirror.Options{Timeout: f.timeout})
	if err != nil {
		return nil, nil, err
	}
	return m, keys, nil
}

// installDir is where install puts plugins: the first -plugin-dir, else
// the first of $ALPHASWARM_PLUGIN_DIR, else ~/.alphaswarm/plugins.
func (f *pluginFlags) installDir() (string, error) {
	if len(f.dirs) > 0 {
		return f.dirs[0], nil
	}
	if v := os.Getenv("ALPHASWARM_PLUGIN_DIR"); v != "" {
		return strings.SplitN(v, string(os.PathListSeparator), 2)[0], nil
	}
	dirs := defaultPluginDirs()
	if len(dirs) == 0 {
		return "", fmt.Errorf("find plugin directory: no home directory; give -plugin-dir")
	}
	return dirs[len(dirs)-1], nil
}

// interruptible is a context that ends on Ctrl-C.
func interruptible() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt)
}

func runPluginsInstall(e env, args []string) int {
	fs := newFlags(e, "plugins install", "plugins install NAME[@VERSION] -mirror URL|DIR -trusted-keys FILE [-plugin-dir DIR] [-lock FILE] [-platform OS_ARCH]")
	var pf pluginFlags
	pf.register(fs.FlagSet)
	var mf mirrorFlags
	mf.register(fs.FlagSet, &pf)
	platform := fs.String("platform", pluginmirror.CurrentPlatform(), "the platform to install for")
	pos, code, ok := fs.parse(args, "NAME[@VERSION]")
	if !ok {
		return code
	}
	name, version, err := pluginmirror.ParseRef(pos[0])
	if err != nil {
		return fs.usageError("%v", err)
	}
	m, keys, err := mf.open()
	if err != nil {
		return e.errorf("%v", err)
	}
	dir, err := pf.installDir()
	if err != nil {
		return e.errorf("%v", err)
	}
	ctx, cancel := interruptible()
	defer cancel()
	req := pluginmirror.Request{Mirror: m, Keys: keys, Name: name, Version: version, Platform: *platform}
	got, err := pluginmirror.Install(ctx, req, dir, pf.lockFile)
	if err != nil {
		return e.errorf("install from mirror %s: %v\nNothing was installed and %s was not changed.", m, err, pf.lockFile)
	}
	fmt.Fprintf(e.stdout, "Installed %s %s for %s: %s\n", got.Name, got.Version, got.Platform, got.Path)
	fmt.Fprintf(e.stdout, "Locked %s %s in %s. Commit it beside your topology.\n", got.Name, got.Hash, pf.lockFile)
	return exitOK
}

func runPluginsMirror(e env, args []string) int {
	fs := newFlags(e, "plugins mirror", "plugins mirror DIR -from RELEASE_DIR [-trusted-keys FILE]")
	from := fs.String("from", "", "a release directory (dist/<version>/ of \"make release\")")
	keysFile := fs.String("trusted-keys", "", "if set, also check each SHA256SUMS signature against these public keys")
	pos, code, ok := fs.parse(args, "DIR")
	if !ok {
		return code
	}
	if *from == "" {
		return fs.usageError("missing -from RELEASE_DIR")
	}
	var keys *pluginmirror.Keyring
	if *keysFile != "" {
		var err error
		if keys, err = pluginmirror.LoadKeyring(*keysFile); err != nil {
			return e.errorf("%v", err)
		}
	}
	published, err := pluginmirror.Build(pos[0], *from, keys)
	if err != nil {
		return e.errorf("%v", err)
	}
	for _, p := range published {
		fmt.Fprintf(e.stdout, "Added %s %s (%s) to %s\n", p.Name, p.Version, strings.Join(p.Platforms, ", "), pos[0])
	}
	return exitOK
}

// lockFromMirror records, for each plugin named or in the lock file, the
// binary hashes of every -platform from the mirror's signed releases.
func lockFromMirror(e env, fs *flags, pf *pluginFlags, mf *mirrorFlags, names []string) int {
	if len(mf.platforms) == 0 {
		return fs.usageError("-mirror needs at least one -platform")
	}
	for _, p := range mf.platforms {
		if err := pluginmirror.CheckPlatform(p); err != nil {
			return fs.usageError("%v", err)
		}
	}
	m, keys, err := mf.open()
	if err != nil {
		return e.errorf("%v", err)
	}
	lock, err := pluginmgr.ReadLockFile(pf.lockFile)
	if err != nil {
		return e.errorf("%v", err)
	}
	if lock == nil {
		lock = &pluginmgr.LockFile{}
	}
	ctx, cancel := interruptible()
	defer cancel()
	targets, err := lockTargets(ctx, m, lock, names)
	if err != nil {
		return e.errorf("%v", err)
	}
	for _, t := range targets {
		hashes, err := pluginmirror.Hashes(ctx, m, keys, t.Name, t.Version, mf.platforms)
		if err != nil {
			return e.errorf("lock from mirror %s: %v\nThe lock file was not written.", m, err)
		}
		pluginmirror.Record(lock, t.Name, t.Version, hashes...)
		for i, p := range mf.platforms {
			fmt.Fprintf(e.stdout, "Locked %s %s for %s: %s\n", t.Name, t.Version, p, hashes[i])
		}
	}
	if err := lock.Write(pf.lockFile); err != nil {
		return e.errorf("%v", err)
	}
	fmt.Fprintf(e.stdout, "Wrote %s. Commit it beside your topology.\n", pf.lockFile)
	return exitOK
}

// lockTargets are the plugins to lock: those named (at the version given,
// else the locked one, else the mirror's newest), or every plugin of the
// lock file at its locked version.
func lockTargets(ctx context.Context, m *pluginmirror.Mirror, lock *pluginmgr.LockFile, names []string) ([]pluginmgr.LockedPlugin, error) {
	var out []pluginmgr.LockedPlugin
	for _, ref := range names {
		name, version, err := pluginmirror.ParseRef(ref)
		if err != nil {
			return nil, err
		}
		if e := lock.Find(name); version == "" && e != nil {
			version = e.Version
		}
		if version == "" {
			if version, err = m.Resolve(ctx, name, ""); err != nil {
				return nil, fmt.Errorf("resolve plugin %q in mirror %s: %w", name, m, err)
			}
		}
		out = append(out, pluginmgr.LockedPlugin{Name: name, Version: version})
	}
	if len(names) > 0 {
		return out, nil
	}
	for _, p := range lock.Plugins {
		if p.Version == "" {
			return nil, fmt.Errorf("lock plugin %q: the lock file gives no version (a development build); name it as %s@VERSION", p.Name, p.Name)
		}
		out = append(out, pluginmgr.LockedPlugin{Name: p.Name, Version: p.Version})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("lock from mirror: the lock file has no plugins; name them as NAME[@VERSION]")
	}
	return out, nil
}
