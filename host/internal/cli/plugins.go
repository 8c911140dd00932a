package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/alphaswarm/controller/host/internal/pluginmgr"
	"github.com/alphaswarm/controller/sdk"
	"github.com/alphaswarm/controller/sdk/pluginhost"
)

func runPlugins(e env, args []string) int {
	const synopsis = "plugins <list|lock|install|mirror> [flags]"
	if len(args) == 0 {
		return e.usageError("plugins", synopsis, "missing the plugins command: list, lock, install or mirror")
	}
	switch args[0] {
	case "list":
		return runPluginsList(e, args[1:])
	case "lock":
		return runPluginsLock(e, args[1:])
	case "install":
		return runPluginsInstall(e, args[1:])
	case "mirror":
		return runPluginsMirror(e, args[1:])
	case "-h", "-help", "--help":
		fmt.Fprintf(e.stdout, "Usage: swarmctl %s\n\n"+
			"  list     List the plugins found, with their versions, capabilities and hashes\n"+
			"  lock     Pin the plugins found in the lock file (-mirror: other platforms' hashes too)\n"+
			"  install  Install a plugin from a mirror, checking its signature, and lock it\n"+
			"  mirror   Build or update a mirror directory from release archives\n", synopsis)
		return exitOK
	}
	return e.usageError("plugins", synopsis, "unknown plugins command %q", args[0])
}

// pluginFlags are the flags both plugins commands take.
type pluginFlags struct {
	dirs     stringList
	lockFile string
}

func (f *pluginFlags) register(fs *flag.FlagSet) {
	fs.Var(&f.dirs, "plugin-dir", "directory to look for plugins in (repeatable; default $ALPHASWARM_PLUGIN_DIR, else plugins/ beside swarmctl and ~/.alphaswarm/plugins)")
	fs.StringVar(&f.lockFile, "lock-file", pluginmgr.DefaultLockFile, "the lock file")
}

func (f *pluginFlags) pluginDirs() []string {
	if len(f.dirs) > 0 {
		return f.dirs
	}
	return defaultPluginDirs()
}

// pluginReport is one row of "plugins list".
type pluginReport struct {
	Name         string           `json:"name"`
	Version      string           `json:"version"`
	Protocol     int              `json:"protocol,omitempty"`
	Capabilities sdk.Capabilities `json:"capabilities"`
	// Offline says the plugin checks configurations and deployments
	// without being configured (validate).
	Offline bool   `json:"offline_validation"`
	Path    string `json:"path"`
	SHA256  string `json:"sha256,omitempty"`
	Hash    string `json:"hash_status"`
	Error   string `json:"error,omitempty"`
}

func runPluginsList(e env, args []string) int {
	fs := newFlags(e, "plugins list", "plugins list [-json] [-plugin-dir DIR] [-lock-file FILE]")
	var pf pluginFlags
	pf.register(fs.FlagSet)
	asJSON := fs.Bool("json", false, "print as JSON")
	if _, code, ok := fs.parse(args); !ok {
		return code
	}
	lock, err := pluginmgr.ReadLockFile(pf.lockFile)
	if err != nil {
		return e.errorf("%v", err)
	}
	m := pluginmgr.New(pluginmgr.Config{PluginDirs: pf.pluginDirs(), Lock: lock, StartTimeout: 10 * time.Second})
	defer m.Close()
	for _, p := range m.Problems() {
		fmt.Fprintf(e.stderr, "Warning: %v\n", p)
	}
	if len(m.Plugins()) == 0 {
		return e.errorf("no plugins found in %s", strings.Join(pf.pluginDirs(), ", "))
	}
	reports := describeAll(m)
	failed := 0
	for _, r := range reports {
		if r.Error != "" {
			failed++
		}
	}
	if *asJSON {
		out, _ := json.MarshalIndent(reports, "", "  ")
		fmt.Fprintln(e.stdout, string(out))
	} else {
		printPluginTable(e, reports)
	}
	if failed > 0 {
		return exitError
	}
	return exitOK
}

// describeAll verifies and describes every plugin, launching up to four at
// a time.
func describeAll(m *pluginmgr.Manager) []pluginReport {
	plugins := m.Plugins()
	reports := make([]pluginReport, len(plugins))
	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	for i, p := range plugins {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			reports[i] = describe(m, p)
		})
	}
	wg.Wait()
	return reports
}

func describe(m *pluginmgr.Manager, p pluginmgr.Plugin) pluginReport {
	r := pluginReport{Name: p.Name, Version: p.Version, Path: p.Path, Capabilities: sdk.Capabilities{}}
	sum, status, err := m.Verify(p)
	r.SHA256, r.Hash = sum, string(status)
	if err == nil {
		var info pluginhost.Info
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		info, err = m.Describe(ctx, p)
		cancel()
		if err == nil {
			r.Version, r.Protocol, r.Capabilities = info.Version, info.Protocol, info.Capabilities
			r.Offline = info.OfflineValidation
		}
	}
	if err != nil {
		r.Error = err.Error()
	}
	return r
}

func printPluginTable(e env, reports []pluginReport) {
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tVERSION\tPROTOCOL\tCAPABILITIES\tOFFLINE\tHASH\tPATH")
	for _, r := range reports {
		protocol, caps, offline := "-", "-", "-"
		if r.Protocol > 0 {
			protocol, offline = strconv.Itoa(r.Protocol), yesNo(r.Offline)
		}
		if len(r.Capabilities) > 0 {
			caps = joinCaps(r.Capabilities)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Name, dash(r.Version), protocol, caps, offline, dash(r.Hash), r.Path)
	}
	tw.Flush()
	for _, r := range reports {
		if r.Error != "" {
			fmt.Fprintf(e.stderr, "Error: %s\n", r.Error)
		}
	}
}

func joinCaps(cs sdk.Capabilities) string {
	s := make([]string, len(cs))
	for i, c := range cs {
		s[i] = string(c)
	}
	return strings.Join(s, ",")
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func runPluginsLock(e env, args []string) int {
	fs := newFlags(e, "plugins lock", "plugins lock [-plugin-dir DIR] [-lock-file FILE]\n"+
		"       swarmctl plugins lock -mirror URL|DIR -trusted-keys FILE -platform OS_ARCH... [-lock-file FILE] [NAME[@VERSION]...]")
	var pf pluginFlags
	pf.register(fs.FlagSet)
	var mf mirrorFlags
	mf.register(fs.FlagSet, &pf)
	fs.Var(&mf.platforms, "platform", "with -mirror: a platform whose binary hashes to record, such as linux_amd64 (repeatable)")
	names, code, ok := fs.parse(args, nameParams...)
	if !ok {
		return code
	}
	if mf.mirror != "" {
		return lockFromMirror(e, fs, &pf, &mf, names)
	}
	if len(names) > 0 || len(mf.platforms) > 0 {
		return fs.usageError("NAME and -platform go with -mirror")
	}
	// Locking is the moment of trust: every plugin found is described
	// without checking an earlier lock, and pinned as it is now.
	m := pluginmgr.New(pluginmgr.Config{PluginDirs: pf.pluginDirs(), StartTimeout: 10 * time.Second})
	defer m.Close()
	if len(m.Plugins()) == 0 {
		return e.errorf("no plugins found in %s", strings.Join(pf.pluginDirs(), ", "))
	}
	reports := describeAll(m)
	earlier, _ := pluginmgr.ReadLockFile(pf.lockFile) // rewritten anyway if unreadable
	lock := &pluginmgr.LockFile{}
	for _, r := range reports {
		if r.Error != "" {
			return e.errorf("%s\nThe lock file was not written.", r.Error)
		}
		lock.Plugins = append(lock.Plugins, pluginmgr.LockedPlugin{Name: r.Name, Version: r.Version, Hashes: keptHashes(earlier, r)})
	}
	if err := lock.Write(pf.lockFile); err != nil {
		return e.errorf("%v", err)
	}
	for _, r := range reports {
		fmt.Fprintf(e.stdout, "Locked %s %s %s\n", r.Name, r.Version, r.SHA256)
	}
	fmt.Fprintf(e.stdout, "Wrote %s. Commit it beside your topology.\n", pf.lockFile)
	return exitOK
}

// keptHashes is what the lock records for r: its binary's hash, and the
// other platforms' hashes of an earlier entry that already listed this
// binary at this version (from "plugins lock -mirror"), so that locking
// again here does not drop them.
func keptHashes(earlier *pluginmgr.LockFile, r pluginReport) []string {
	if earlier == nil {
		return []string{r.SHA256}
	}
	if old := earlier.Find(r.Name); old != nil && old.Version == r.Version && slices.Contains(old.Hashes, r.SHA256) {
		return old.Hashes
	}
	return []string{r.SHA256}
}
