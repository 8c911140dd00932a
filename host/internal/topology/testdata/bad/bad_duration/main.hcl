backend "compose" "local" {}

deployment "shop" {
  tenant      = "acme"
  environment = "prod"
  backend     = backend.compose.local

  service "web" {
    image = "web:1"

    port "http" {
      container = 8080
    }

    health {
      http     = "/healthz"
      port     = "http"
      interval = "5 seconds"
    }
  }
}
