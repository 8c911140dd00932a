deployment "shop" {
  tenant      = "acme"
  environment = "prod"
  backend     = backend.compose.local
  servise "web" {
    image = "web:1"
  }
}

backend "compose" "local" {}
