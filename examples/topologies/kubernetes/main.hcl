# The same kind of application on a Kubernetes cluster: make k8s-up starts
# a local control plane and writes .swarm/k8s/kubeconfig. Each service is a
# Deployment and a Service in namespace acme-staging-shop-<hash>, which apply
# creates; the secret becomes a Secret read through secretKeyRef.

variable "replicas" {
  type    = number
  default = 3

  validation {
    condition     = var.replicas >= 1 && var.replicas <= 20
    error_message = "replicas must be between 1 and 20."
  }
}

# The cluster of make k8s-up. Dev mode registers it as kubernetes.local once
# .swarm/k8s/kubeconfig exists; swarmctl plan -local finds it through
# $KUBECONFIG (make k8s-up prints the export).
backend "kubernetes" "local" {}

deployment "shop" {
  tenant      = "acme"
  environment = "staging"
  backend     = backend.kubernetes.local

  service "web" {
    image    = "registry.example.com/acme/web:2.1.0"
    command  = ["/web"]
    args     = ["--listen", ":8080"]
    replicas = var.replicas
    env = {
      LOG_LEVEL = "info"
    }
    secret_env = {
      SESSION_KEY = secret("shop/session-key")
    }
    labels = {
      team = "storefront"
    }

    port "http" {
      container = 8080
    }

    resources {
      cpu    = 1
      memory = "512Mi"
    }

    health {
      http         = "/healthz"
      port         = "http"
      interval     = "10s"
      timeout      = "2s"
      start_period = "30s"
      retries      = 3
    }
  }
}
