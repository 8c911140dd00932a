# Quickstart: two services on the local Docker Engine.
#
#   make build images
#   bin/swarmctl validate examples/topologies/quickstart-compose
#   bin/swarmctl plan examples/topologies/quickstart-compose

variable "tag" {
  type        = string
  default     = "dev"
  description = "Tag of the echo image; make images builds alphaswarm/echo:dev."
}

locals {
  image = "alphaswarm/echo:${var.tag}"
  common_env = {
    LOG_INTERVAL = "5s"
  }
}

# The local Docker Engine. On a controller the operator registers this
# backend and sets its configuration (dev mode does, for everyone); a
# topology only names it. swarmctl plan -local uses the plugin's defaults.
backend "compose" "local" {}

deployment "hello" {
  tenant      = "demo"
  environment = "dev"
  backend     = backend.compose.local

  service "db" {
    image = local.image
    env   = local.common_env

    port "http" {
      container = 8080
    }

    health {
      http     = "/healthz"
      port     = "http"
      interval = "1s"
    }
  }

  service "api" {
    image      = local.image
    replicas   = 2
    env        = merge(local.common_env, { ROLE = "api" })
    depends_on = [service.db]

    port "http" {
      container = 8080
    }

    resources {
      cpu    = 0.5
      memory = "64Mi"
    }

    health {
      http     = "/healthz"
      port     = "http"
      interval = "1s"
    }
  }

  service "web" {
    image      = local.image
    env        = merge(local.common_env, { ROLE = "web" })
    depends_on = [service.api]

    port "http" {
      container = 8080
      host      = var.web_port
    }

    health {
      http     = "/healthz"
      port     = "http"
      interval = "1s"
    }
  }
}

# The front door: one replica published on the host, so the example answers
# at http://127.0.0.1:18080/ once applied (0 keeps it unpublished).
variable "web_port" {
  type        = number
  default     = 18080
  description = "Host port of the web service; 0 publishes none."
}
