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
