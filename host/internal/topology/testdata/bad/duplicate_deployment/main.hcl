backend "compose" "local" {}

deployment "shop" {
  tenant      = "acme"
  environment = "prod"
  backend     = backend.compose.local
}

deployment "shop" {
  tenant      = "acme"
  environment = "dev"
  backend     = backend.compose.local
}
