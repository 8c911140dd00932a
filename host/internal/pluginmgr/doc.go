// Package pluginmgr finds backend plugin binaries, checks them against the
// lock file, and runs them: one process per configured backend instance,
// launched on demand over mutual TLS, pinged for health, relaunched with
// backoff after a crash, and stopped cleanly with the host.
//
// A plugin directory holds released plugins as
// <dir>/<name>/<version>/<os>_<arch>/swarm-backend-<name> and development
// builds flat as <dir>/swarm-backend-<name>; a development build wins over a
// release of the same name, as Terraform's dev_overrides do.
package pluginmgr
