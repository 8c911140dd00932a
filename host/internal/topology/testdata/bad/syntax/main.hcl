deployment "shop" {
  tenant = "acme"
  environment = "prod"
  service "web" {
    image = "web:1"
