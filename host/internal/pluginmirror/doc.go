// Package pluginmirror installs backend plugins from mirrors laid out like
// Terraform's provider network and filesystem mirrors, and builds such
// mirrors from release directories.
//
// A mirror, a directory or an https base URL (http only on loopback), holds
// per plugin
//
//	<base>/<name>/index.json      {"versions":{"0.2.0":{}}}
//	<base>/<name>/<ver>.json      archives per os_arch with zh: hashes, shasums, shasums_signature
//	<base>/<name>/swarm-backend-<name>_<ver>_<os>_<arch>.zip
//	<base>/<name>/swarm-backend-<name>_<ver>_SHA256SUMS[.sig]
//
// Unlike Terraform, which trusts a mirror's hashes without a signature, every
// archive taken from any mirror is checked against a SHA256SUMS file whose
// detached OpenPGP signature was made by a key the operator trusts, and
// against the zh: hash of <ver>.json. Everything a mirror sends is untrusted:
// documents and archives are size-capped, a directory mirror's references
// are plain file names beside the document, a network mirror's resolve to
// https URLs (plain http only on loopback, and loopback only from a mirror
// on loopback, redirects included), and an archive must hold
// exactly one regular file, the plugin binary, at its root.
//
// Install writes the binary into <plugin dir>/<name>/<ver>/<os>_<arch>/
// through a temporary directory renamed into place, then records the
// binary's sha256: hash in the lock file; any failure leaves both as they
// were. Hashes fetches and verifies other platforms' archives to record the
// hashes of their binaries, so one lock file serves several platforms.
package pluginmirror
