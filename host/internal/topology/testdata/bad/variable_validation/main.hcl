variable "replicas" {
  type    = number
  default = 50

  validation {
    condition     = var.replicas <= 20
    error_message = "at most 20 replicas."
  }
}
