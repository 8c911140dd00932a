package auth

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// rawJSON keeps the verified payload as it was signed.
type rawJSON []byte

func (r *rawJSON) UnmarshalJSON(b []byte) error {
	*r = append((*r)[:0], b...)
	return nil
}

// principal reads the verified payload: it refuses repeated claims (a
// parser that kept the first copy would see another token than ours),
// iat and nbf in the future, and a token without a tenant.
func (v *oidcVerifier) principal(payload rawJSON) (*Principal, error) {
	claims, err := topLevelClaims(payload)
	if err != nil {
		return nil, unauthenticated("%v", err)
	}
	now := v.cfg.Now()
	for _, name := range []string{"iat", "nbf"} {
		at, err := numericDate(claims, name)
		if err != nil {
			return nil, unauthenticated("%v", err)
		}
		if at.After(now.Add(clockLeeway)) {
			return nil, unauthenticated("token %s %s lies in the future", name, at.UTC().Format(time.RFC3339))
		}
	}
	p := &Principal{}
	if err := stringClaim(claims, "sub", &p.Subject); err != nil {
		return nil, unauthenticated("%v", err)
	}
	if err := stringClaim(claims, v.cfg.TenantClaim, &p.Tenant); err != nil {
		return nil, unauthenticated("%v", err)
	}
	if p.Tenant == "" {
		return nil, &Error{Status: 403, Reason: fmt.Sprintf("the token names no tenant (claim %q)", v.cfg.TenantClaim)}
	}
	if p.Environments, err = listClaim(claims, v.cfg.EnvironmentsClaim); err != nil {
		return nil, unauthenticated("%v", err)
	}
	perms, err := listClaim(claims, v.cfg.PermissionsClaim)
	if err != nil {
		return nil, unauthenticated("%v", err)
	}
	for _, s := range perms {
		p.Permissions = append(p.Permissions, Permission(s))
	}
	return p, nil
}

// topLevelClaims splits a JSON object into its members, refusing a name
// that appears twice.
func topLevelClaims(payload []byte) (map[string]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(payload))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, fmt.Errorf("token claims are not a JSON object")
	}
	claims := map[string]json.RawMessage{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("token claims are malformed")
		}
		name, _ := t.(string)
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return nil, fmt.Errorf("token claim %q is malformed", name)
		}
		if _, dup := claims[name]; dup {
			return nil, fmt.Errorf("token repeats the claim %q", name)
		}
		claims[name] = value
	}
	return claims, nil
}

func stringClaim(claims map[string]json.RawMessage, name string, into *string) error {
	raw, ok := claims[name]
	if !ok {
		return nil
	}
	if err := json.Unmarshal(raw, into); err != nil {
		return fmt.Errorf("token claim %q is not a string", name)
	}
	return nil
}

// listClaim reads an array of strings, or one space-separated string as
// OAuth's scope claim is.
func listClaim(claims map[string]json.RawMessage, name string) ([]string, error) {
	raw, ok := claims[name]
	if !ok {
		return nil, nil
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err == nil {
		return list, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("token claim %q is neither a list of strings nor a string", name)
	}
	return strings.Fields(s), nil
}

// numericDate reads a JWT NumericDate (seconds since the epoch); a
// missing claim is the zero time.
func numericDate(claims map[string]json.RawMessage, name string) (time.Time, error) {
	raw, ok := claims[name]
	if !ok {
		return time.Time{}, nil
	}
	var secs float64
	if err := json.Unmarshal(raw, &secs); err != nil {
		return time.Time{}, fmt.Errorf("token claim %q is not a number", name)
	}
	return time.Unix(int64(secs), 0), nil
}
