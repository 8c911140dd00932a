package topology

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad feeds arbitrary bytes to the loader as a topology file: it must
// never panic, and every problem must point at a place in the file.
func FuzzLoad(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/bad/*/*.hcl")
	examples, _ := filepath.Glob("../../../examples/topologies/*/*.hcl")
	for _, path := range append(seeds, examples...) {
		if src, err := os.ReadFile(path); err == nil {
			f.Add(src)
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "main.hcl"), src, 0o644); err != nil {
			t.Fatal(err)
		}
		_, diags := Load(dir, Values{})
		for _, d := range diags {
			if d.Subject == nil {
				t.Errorf("diagnostic without a position: %s: %s", d.Summary, d.Detail)
			}
		}
	})
}
