package credentials

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"unicode"
)

func init() {
	Register("env", func(s map[string]string) (SecretStore, error) {
		prefix := s["prefix"]
		if prefix == "" {
			prefix = "ALPHASWARM_SECRET_"
		}
		return &EnvStore{Prefix: prefix, Getenv: os.Getenv}, nil
	})
	Register("dir", func(s map[string]string) (SecretStore, error) {
		if s["path"] == "" {
			return nil, errors.New("open secret store dir: the path setting is required")
		}
		return &DirStore{Root: s["path"]}, nil
	})
}

// EnvStore reads secrets from environment variables: "trading/db-password"
// is $ALPHASWARM_SECRET_TRADING_DB_PASSWORD (upper case, every character
// that is not a letter or digit becoming '_').
type EnvStore struct {
	Prefix string
	Getenv func(string) string
}

// VarName is the environment variable that holds name.
func (s *EnvStore) VarName(name string) string {
	return s.Prefix + strings.Map(func(r rune) rune {
		if r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			return unicode.ToUpper(r)
		}
		return '_'
	}, name)
}

func (s *EnvStore) Lookup(_ context.Context, name string) (string, error) {
	if err := CheckName(name); err != nil {
		return "", err
	}
	v := s.Getenv(s.VarName(name))
	if v == "" {
		return "", fmt.Errorf("%w: $%s is not set", ErrNotFound, s.VarName(name))
	}
	return v, nil
}

// DirStore reads secrets from files under Root, one file per secret:
// "trading/db-password" is Root/trading/db-password. A trailing newline is
// dropped. This is how Docker and Kubernetes mount secrets.
type DirStore struct {
	Root string
}

func (s *DirStore) Lookup(_ context.Context, name string) (string, error) {
	if err := CheckName(name); err != nil {
		return "", err
	}
	path := filepath.Join(s.Root, filepath.FromSlash(name))
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("%w: no file %s", ErrNotFound, path)
	}
	if err != nil {
		return "", fmt.Errorf("read secret file: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxValueBytes+1))
	if err != nil {
		return "", fmt.Errorf("read secret file: %w", err)
	}
	if len(b) > MaxValueBytes {
		return "", fmt.Errorf("secret file %s is larger than %d bytes", path, MaxValueBytes)
	}
	return strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r"), nil
}
