package auth

import (
	"fmt"
	"slices"
	"strings"
)

// Permission is one Auth0 RBAC permission, as it appears in the access
// token's permissions claim.
type Permission string

// The permissions the host checks.
const (
	DeploymentsRead    Permission = "deployments:read"
	DeploymentsLogs    Permission = "deployments:logs"
	DeploymentsDeploy  Permission = "deployments:deploy"
	DeploymentsRestart Permission = "deployments:restart"
	DeploymentsScale   Permission = "deployments:scale"
	DeploymentsExec    Permission = "deployments:exec"
	DeploymentsDestroy Permission = "deployments:destroy"
	BackendsRead       Permission = "backends:read"
	AuditRead          Permission = "audit:read"
)

// AllPermissions lists every permission, in a stable order.
func AllPermissions() []Permission {
	return []Permission{DeploymentsRead, DeploymentsLogs, DeploymentsDeploy, DeploymentsRestart,
		DeploymentsScale, DeploymentsExec, DeploymentsDestroy, BackendsRead, AuditRead}
}

// ParsePermissions reads a comma-separated list such as
// "deployments:read,deployments:logs"; "all" or "*" means every permission.
func ParsePermissions(list string) ([]Permission, error) {
	if list == "all" || list == "*" {
		return AllPermissions(), nil
	}
	var out []Permission
	for _, p := range strings.Split(list, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if !slices.Contains(AllPermissions(), Permission(p)) {
			return nil, fmt.Errorf("parse permissions: unknown permission %q (known: %s)", p, joinPermissions(AllPermissions()))
		}
		out = append(out, Permission(p))
	}
	return out, nil
}

func joinPermissions(ps []Permission) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = string(p)
	}
	return strings.Join(s, ", ")
}
