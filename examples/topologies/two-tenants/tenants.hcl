variable "image" {
  type    = string
  default = "alphaswarm/echo:dev"
}

deployment "acme-shop" {
  tenant      = "acme"
  environment = "prod"
  backend     = backend.compose.local

  service "web" {
    image = var.image

    port "http" {
      container = 8080
      host      = 18081
    }
  }
}

deployment "globex-shop" {
  tenant      = "globex"
  environment = "prod"
  backend     = backend.compose.local

  service "web" {
    image = var.image

    port "http" {
      container = 8080
      host      = 18082
    }
  }
}
