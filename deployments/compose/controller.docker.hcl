# The host configuration of the admin stack's docker profile: the compose
# backend on the Docker socket mounted into the controller.
backend "compose" "local" {
  config {
    host           = "unix:///var/run/docker.sock"
    project_prefix = "as"
  }
  grant {
    tenants      = ["*"]
    environments = ["dev"]
  }
}

backend "memory" "sim" {
  grant {
    tenants      = ["*"]
    environments = ["dev"]
  }
}
