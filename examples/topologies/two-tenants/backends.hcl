# One engine, two tenants: each deployment belongs to its tenant, and the
# control plane never shows one tenant's deployments to the other.

backend "compose" "local" {}
