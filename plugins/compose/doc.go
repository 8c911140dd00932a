// Package compose is the Docker Compose backend of alphaswarm-controller: it
// runs a deployment on a Docker Engine as a compose project, through the
// Engine API (github.com/docker/docker/client), so that "docker compose -p
// <project> ps" and "docker ps --filter label=..." show what it runs.
//
// A deployment becomes one project: an isolated network, named volumes, and
// containers <project>-<service>-<n> with the compose labels. Changed
// services are replaced one replica at a time, start-first, waiting for
// health; HTTP and TCP health checks are run by the plugin against the
// container's address, command checks become Docker healthchecks. Everything
// the plugin creates carries its labels, so destroy finds it even after a
// failed apply and without state.
//
// The plugin binary is cmd/swarm-backend-compose.
package compose
