package pluginmgr

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLockFileRoundTripAndGolden(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), DefaultLockFile)
	lf := &LockFile{Plugins: []LockedPlugin{
		{Name: "memory", Version: "0.1.0", Hashes: []string{"sha256:" + strings.Repeat("a", 64)}},
		{Name: "compose", Version: "0.2.0", Hashes: []string{"sha256:" + strings.Repeat("b", 64), "sha256:" + strings.Repeat("c", 64)}},
	}}
	if err := lf.Write(path); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join("testdata", "lock.golden.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("lock file format (-golden +got):\n%s", diff)
	}
	back, err := ReadLockFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if back.Find("compose") == nil || len(back.Find("compose").Hashes) != 2 || back.Find("memory").Version != "0.1.0" {
		t.Errorf("read back %+v", back)
	}
}

func TestReadLockFileErrors(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, src, want string }{
		{"syntax", "plugin \"memory\" {\n  hashes = [\n", "lock.hcl:"},
		{"bad hash", `plugin "memory" { hashes = ["md5:abc"] }`, `plugin "memory": hash "md5:abc"`},
		{"unknown attribute", `plugin "memory" {` + "\n" + `hashes = []` + "\n" + `url = "x"` + "\n}", "lock.hcl:3"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "lock.hcl")
			if err := os.WriteFile(path, []byte(tc.src), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := ReadLockFile(path)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ReadLockFile = %v, want an error containing %q", err, tc.want)
			}
		})
	}
	if lf, err := ReadLockFile(filepath.Join(t.TempDir(), "none.hcl")); lf != nil || err != nil {
		t.Errorf("a missing lock file: %v, %v; want nil, nil", lf, err)
	}
}

// TestLockFileWriteReplacesAtomically replaces a lock file through a
// temporary file renamed over it: a new inode, mode 0644, nothing left
// beside it, and a reader holding the old file still reads it whole.
func TestLockFileWriteReplacesAtomically(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, DefaultLockFile)
	old := "# an earlier lock\n"
	if err := os.WriteFile(path, []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	held, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	lf := &LockFile{Plugins: []LockedPlugin{{Name: "memory", Version: "0.1.0", Hashes: []string{"sha256:" + strings.Repeat("a", 64)}}}}
	if err := lf.Write(path); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if diff := cmp.Diff([]string{DefaultLockFile}, names); diff != "" {
		t.Errorf("files beside the lock (-want +got):\n%s", diff)
	}
	if st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", st.Mode().Perm())
	}
	buf := make([]byte, 100)
	n, _ := held.Read(buf)
	if string(buf[:n]) != old {
		t.Errorf("the old file, held open, reads %q: it was written in place", buf[:n])
	}
}

func TestLockFileWriteErrorSaysWhat(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "missing-dir", DefaultLockFile)
	err := (&LockFile{}).Write(path)
	if err == nil || !strings.Contains(err.Error(), "write lock file") {
		t.Errorf("Write into a missing directory: %v", err)
	}
}
