// Package api is the HTTP API of swarmctl server, behind the UI and the
// CLI: JSON over gorilla/mux, errors as application/problem+json, a request
// id on every answer, server-sent events for job events and log follow, a
// WebSocket for exec, and an OpenAPI 3.1 document that a test keeps equal
// to the routes.
//
// Every /v1 route verifies the caller's access token and decides the
// operation's permission for the deployment's tenant and environment
// before anything reaches a plugin. A deployment the caller may not see
// answers 404; listings are filtered in the store query. Every mutating
// request and every denial is written to the audit log, never with a token
// or a secret in it.
package api
