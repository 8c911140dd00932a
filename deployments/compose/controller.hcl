# The host configuration of the admin stack (docs/operators.md): the
# backends operators register and who may use them. Replace this example
# with your own, or point ALPHASWARM_HOST_CONFIG at yours.
#
# memory.sim is the in-memory simulator: it runs nothing, and lets a
# fresh stack be tried end to end.
backend "memory" "sim" {
  grant {
    tenants      = ["*"]
    environments = ["dev"]
  }
}
