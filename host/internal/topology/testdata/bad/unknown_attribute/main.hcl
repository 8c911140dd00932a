backend "compose" "local" {}

deployment "shop" {
  tenant      = "acme"
  environment = "prod"
  backend     = backend.compose.local

  service "web" {
    image   = "web:1"
    replica = 2
  }
}
