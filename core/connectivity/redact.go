package connectivity

import (
	"net/url"
	"strings"
)

// Masked replaces a password or a sensitive parameter's value.
const Masked = "xxxxx"

// Hidden replaces a whole value that Redact cannot take apart safely.
const Hidden = "(unparseable, hidden)"

// sensitiveParams are the query parameters whose values Redact masks,
// lower case.
var sensitiveParams = map[string]bool{
	"password": true, "sslpassword": true, "token": true, "access_token": true,
	"secret": true, "sig": true, "signature": true, "key": true, "apikey": true,
	"api_key": true, "client_secret": true,
	"x-amz-signature": true, "x-amz-security-token": true, "x-goog-signature": true,
}

// Redact returns raw with the password of its userinfo, the values of its
// sensitive query parameters and its fragment replaced by Masked. A value
// that is not an absolute URL, or is longer than MaxValueBytes, becomes
// Hidden as a whole: Redact never returns a secret it cannot locate. A URL
// with nothing to mask comes back as written.
func Redact(raw string) string {
	if raw == "" {
		return ""
	}
	if len(raw) > MaxValueBytes {
		return Hidden
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Opaque != "" {
		return Hidden
	}
	masked := false
	if _, ok := u.User.Password(); ok {
		u.User, masked = url.UserPassword(u.User.Username(), Masked), true
	}
	if q := redactParams(u.RawQuery); q != u.RawQuery {
		u.RawQuery, masked = q, true
	}
	if u.Fragment != "" || u.RawFragment != "" {
		u.Fragment, u.RawFragment, masked = Masked, "", true
	}
	if !masked {
		return raw
	}
	return u.String()
}

// redactParams masks the values of the sensitive parameters of a raw
// query, keeping the rest as written. It splits on ';' as well as '&', as
// some parsers do, which can only mask more.
func redactParams(query string) string {
	var b strings.Builder
	for query != "" {
		param, rest := query, ""
		if i := strings.IndexAny(query, "&;"); i >= 0 {
			param, rest = query[:i], query[i:]
		}
		b.WriteString(redactParam(param))
		sep := min(len(rest), 1)
		b.WriteString(rest[:sep])
		query = rest[sep:]
	}
	return b.String()
}

// redactParam masks the value of one key=value parameter if its key is
// sensitive or cannot be decoded.
func redactParam(param string) string {
	key, _, ok := strings.Cut(param, "=")
	if !ok {
		return param
	}
	name, err := url.QueryUnescape(key)
	if err != nil || sensitiveParams[strings.ToLower(strings.TrimSpace(name))] {
		return key + "=" + Masked
	}
	return param
}
