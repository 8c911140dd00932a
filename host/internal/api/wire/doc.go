// Package wire holds the documents of the host's HTTP API as they travel:
// request and response bodies, problem documents, server-sent event data
// and the exec WebSocket's control messages. The API server encodes them
// and the API client (apiclient) decodes them, so both sides read one
// definition; a test checks each type's JSON fields against the OpenAPI
// document (api/openapi.json).
//
// It also names the runtime operations (Op) once for the CLI commands, the
// API routes, the job kinds and the audit log.
package wire
