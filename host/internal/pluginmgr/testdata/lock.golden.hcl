# This file is maintained by "swarmctl plugins lock". Commit it with your topology:
# the host refuses to launch a plugin binary whose SHA-256 is not listed here.

plugin "compose" {
  version = "0.2.0"
  hashes = [
    "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
    "sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc",
  ]
}

plugin "memory" {
  version = "0.1.0"
  hashes = [
    "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
  ]
}
