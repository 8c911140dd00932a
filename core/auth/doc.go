// Package auth decides who may do what: it verifies an access token (an
// Auth0 JWT, or one from any OpenID Connect issuer), turns its claims into a
// Principal (subject, tenant, environments, permissions), and answers
// whether that principal may perform an operation on a deployment.
//
// The host calls it before anything reaches a plugin. Verification is
// strict by construction: the issuer must match exactly as configured (with
// Auth0's trailing slash), the audience must include the API identifier, only
// RS256 is accepted, a token larger than MaxTokenBytes is refused before it
// is parsed, iat and nbf may not lie in the future, a payload that repeats a
// claim is refused, and signing keys come only from the issuer's JWKS (jku,
// x5u and embedded jwk headers are never followed). A token signed with an
// unknown key id refetches the JWKS at most once per MinRefetch, so forged
// tokens cannot make the host hammer the issuer.
//
// Identity providers are registered by name ("auth0" and "oidc" are built
// in) behind the Verifier interface, so more can be added.
package auth
