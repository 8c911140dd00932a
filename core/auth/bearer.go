package auth

import (
	"encoding/base64"
	"net/http"
	"strings"
)

// WebSocketTokenPrefix marks a WebSocket subprotocol that carries the
// access token, base64url-encoded without padding, for browsers, which
// cannot set Authorization on a WebSocket (Kubernetes does the same):
//
//	new WebSocket(url, ["alphaswarm.exec.v1", "base64url.bearer.alphaswarm.io." + b64url(token)])
const WebSocketTokenPrefix = "base64url.bearer.alphaswarm.io."

// BearerToken returns the token of an "Authorization: Bearer <token>"
// header; the scheme is case-insensitive (RFC 6750). Without that header,
// a WebSocket upgrade may carry the token as a WebSocketTokenPrefix
// subprotocol. A missing token gives "", which Verify refuses; another
// scheme, or a subprotocol that does not decode, is refused here.
func BearerToken(r *http.Request) (string, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return webSocketToken(r)
	}
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", unauthenticated("the Authorization header must be \"Bearer <token>\"")
	}
	return strings.TrimSpace(token), nil
}

func webSocketToken(r *http.Request) (string, error) {
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		return "", nil
	}
	for _, list := range r.Header.Values("Sec-WebSocket-Protocol") {
		for _, p := range strings.Split(list, ",") {
			if enc, ok := strings.CutPrefix(strings.TrimSpace(p), WebSocketTokenPrefix); ok {
				if len(enc) > MaxTokenBytes*4/3+4 {
					return "", unauthenticated("token is longer than %d bytes", MaxTokenBytes)
				}
				b, err := base64.RawURLEncoding.DecodeString(enc)
				if err != nil {
					return "", unauthenticated("the WebSocket token subprotocol is not base64url")
				}
				return string(b), nil
			}
		}
	}
	return "", nil
}
