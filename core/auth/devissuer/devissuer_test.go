package devissuer_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/alphaswarm/controller/core/auth/devissuer"
)

func TestLoadOrCreateKeyKeepsOneKey(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "dev", "issuer.pem")
	first, err := devissuer.LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", info.Mode().Perm())
	}
	again, err := devissuer.LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if devissuer.KeyID(&first.PublicKey) != devissuer.KeyID(&again.PublicKey) {
		t.Error("loading the key again gave another key")
	}
	if err := os.WriteFile(path, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := devissuer.LoadOrCreateKey(path); err == nil {
		t.Error("a garbage key file was accepted")
	}
}

func TestStartRefusesNonLoopback(t *testing.T) {
	t.Parallel()
	key, err := devissuer.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	if iss, err := devissuer.Start("0.0.0.0:0", "aud", key); err == nil {
		iss.Close()
		t.Error("the dev issuer listened on every interface")
	}
}
