backend "compose" "local" {}

deployment "shop" {
  tenant      = "Acme Corp"
  environment = "prod"
  backend     = backend.compose.local

  service "web" {
    image = "web:1"
  }
}
