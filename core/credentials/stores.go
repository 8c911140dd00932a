package credentials

import (
	"cmp"
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
		return &EnvStore{Prefix: s["prefix"], TenantPrefix: s["tenant_prefix"], Getenv: os.Getenv}, nil
	})
	Register("dir", func(s map[string]string) (SecretStore, error) {
		if s["path"] == "" {
			return nil, errors.New("open secret store dir: the path setting is required")
		}
		return &DirStore{Root: s["path"]}, nil
	})
}

// EnvStore reads secrets from environment variables. The operator's
// "trading/db-password" is $ALPHASWARM_SECRET_TRADING_DB_PASSWORD (upper
// case, every character that is not a letter or digit becoming '_').
// Tenant acme's "db-password" is $ALPHASWARM_TENANT_SECRET_ACME__DB_PASSWORD:
// the tenant, two underscores, the name; a '-' in the tenant is written
// "_H" (tenant acme-corp is ACME_HCORP), so the first "__" always ends the
// tenant and no tenant's variable is another's.
type EnvStore struct {
	Prefix       string // of the operator's secrets; default ALPHASWARM_SECRET_
	TenantPrefix string // of the tenants' secrets; default ALPHASWARM_TENANT_SECRET_
	Getenv       func(string) string
}

// VarName is the environment variable that holds the operator's name.
func (s *EnvStore) VarName(name string) string {
	return cmp.Or(s.Prefix, "ALPHASWARM_SECRET_") + envName(name)
}

// TenantVarName is the environment variable that holds tenant's name.
func (s *EnvStore) TenantVarName(tenant, name string) string {
	return cmp.Or(s.TenantPrefix, "ALPHASWARM_TENANT_SECRET_") + strings.ReplaceAll(envName(tenant), "_", "_H") + "__" + envName(name)
}

func envName(name string) string {
	return strings.Map(func(r rune) rune {
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
	return s.get(s.VarName(name))
}

func (s *EnvStore) LookupTenant(_ context.Context, tenant, name string) (string, error) {
	if err := errors.Join(checkTenant(tenant), CheckName(name)); err != nil {
		return "", err
	}
	return s.get(s.TenantVarName(tenant, name))
}

func (s *EnvStore) get(variable string) (string, error) {
	v := s.Getenv(variable)
	if v == "" {
		return "", fmt.Errorf("%w: $%s is not set", ErrNotFound, variable)
	}
	if len(v) > MaxValueBytes {
		return "", fmt.Errorf("$%s is larger than %d bytes", variable, MaxValueBytes)
	}
	return v, nil
}

// DirStore reads secrets from files under Root, one file per secret: the
// operator's "trading/db-password" is Root/trading/db-password, and tenant
// acme's "db-password" is Root/tenants/acme/db-password (so no operator
// secret may live under Root/tenants). A trailing newline is dropped. This
// is how Docker and Kubernetes mount secrets.
type DirStore struct {
	Root string
}

// tenantsDir is the folder of Root that holds the tenants' secrets.
const tenantsDir = "tenants"

func (s *DirStore) Lookup(_ context.Context, name string) (string, error) {
	if err := CheckName(name); err != nil {
		return "", err
	}
	if first, _, _ := strings.Cut(name, "/"); first == tenantsDir {
		return "", fmt.Errorf("secret name %q is in %s/, which holds the tenants' secrets, not the operator's", name, tenantsDir)
	}
	return s.read(name)
}

func (s *DirStore) LookupTenant(_ context.Context, tenant, name string) (string, error) {
	if err := errors.Join(checkTenant(tenant), CheckName(name)); err != nil {
		return "", err
	}
	return s.read(tenantsDir + "/" + tenant + "/" + name)
}

// read reads the file of rel, a checked name under Root; errors name rel,
// never Root, since they may reach a tenant.
func (s *DirStore) read(rel string) (string, error) {
	f, err := os.Open(filepath.Join(s.Root, filepath.FromSlash(rel)))
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("%w: no file %s in the secret directory", ErrNotFound, rel)
	}
	if err != nil {
		return "", fmt.Errorf("read secret file %s: %w", rel, withoutPath(err))
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxValueBytes+1))
	if err != nil {
		return "", fmt.Errorf("read secret file %s: %w", rel, withoutPath(err))
	}
	if len(b) > MaxValueBytes {
		return "", fmt.Errorf("secret file %s is larger than %d bytes", rel, MaxValueBytes)
	}
	return strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r"), nil
}

// withoutPath drops the host path from a file error.
func withoutPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
