backend "compose" "local" {}

deployment "shop" {
  tenant      = "acme"
  environment = "prod"
  backend     = backend.compose.remote

  service "web" {
    image = "web:1"
  }
}
