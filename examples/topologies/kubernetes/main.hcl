# The same application on a Kubernetes cluster. The kubernetes backend
# plugin arrives with its own issue; until it is installed, validate checks
# this file by the language alone and says so.

variable "replicas" {
  type    = number
  default = 3

  validation {
    condition     = var.replicas >= 1 && var.replicas <= 20
    error_message = "replicas must be between 1 and 20."
  }
}

backend "kubernetes" "dev" {
  kubeconfig = ".swarm/k8s/kubeconfig"
  namespace  = "shop"
}

deployment "shop" {
  tenant      = "acme"
  environment = "staging"
  backend     = backend.kubernetes.dev

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

    volume "cache" {
      path = "/var/cache/web"
    }
  }
}
