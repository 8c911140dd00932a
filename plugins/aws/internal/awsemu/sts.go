package awsemu

import (
	"crypto/rand"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// tempCreds are credentials the emulated STS issued.
type tempCreds struct {
	secret, token string
	expires       time.Time
	role          string
}

// AddRole makes a role assumable, with AssumeRole, by the emulator's access
// key; externalID, when set, must be given.
func (s *Server) AddRole(arn, externalID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.roles[arn] = externalID
}

// AddWebIdentityRole makes a role assumable with AssumeRoleWithWebIdentity
// by whoever presents token, as a role whose trust policy names an OIDC
// provider (IRSA) would be.
func (s *Server) AddWebIdentityRole(arn, token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.webRoles[arn] = token
}

// isQuery says whether r is an awsQuery call (STS): a form POST to /.
func isQuery(r *http.Request) bool {
	return r.Header.Get("X-Amz-Target") == "" && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded")
}

// serveQuery answers STS (and, by its Version, Elastic Load Balancing) in
// the awsQuery protocol: form-encoded Action and
// parameters in, XML out, errors as an ErrorResponse document.
func (s *Server) serveQuery(w http.ResponseWriter, r *http.Request, body []byte) {
	fail := func(e *apiError) {
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(e.status)
		fault := "Sender"
		if e.status >= 500 {
			fault = "Receiver"
		}
		fmt.Fprintf(w, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>%s</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>emu</RequestId></ErrorResponse>`,
			fault, e.code, xmlEscape(e.msg))
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		fail(errorf(400, "MalformedQueryString", "%v", err))
		return
	}
	if form.Get("Version") == elbVersion {
		s.serveELB(w, r, body, form, fail)
		return
	}
	action := form.Get("Action")
	// AssumeRoleWithWebIdentity is unsigned, as in AWS: the token is the
	// proof of identity. Every other action must be signed.
	if action != "AssumeRoleWithWebIdentity" || r.Header.Get("Authorization") != "" {
		if aerr := s.checkSignature(r, body, "sts"); aerr != nil {
			fail(aerr)
			return
		}
	}
	if aerr := s.fire("sts."+action, r.Context()); aerr != nil {
		fail(aerr)
		return
	}
	if (action != "AssumeRole" && action != "AssumeRoleWithWebIdentity") || form.Get("Version") != "2011-06-15" {
		fail(errorf(400, "InvalidAction", "the emulator does not implement sts.%s (version %s)", action, form.Get("Version")))
		return
	}
	role, session := form.Get("RoleArn"), form.Get("RoleSessionName")
	s.mu.Lock()
	wantExternal, assumable := s.roles[role]
	wantToken, federated := s.webRoles[role]
	s.mu.Unlock()
	switch {
	case session == "":
		fail(errorf(400, "ValidationError", "1 validation error detected: Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null"))
		return
	case action == "AssumeRole" && (!assumable || wantExternal != form.Get("ExternalId")):
		fail(errorf(403, "AccessDenied", "User: arn:aws:iam::%s:user/emulator is not authorized to perform: sts:AssumeRole on resource: %s", AccountID, role))
		return
	case action == "AssumeRoleWithWebIdentity" && form.Get("WebIdentityToken") == "":
		fail(errorf(400, "ValidationError", "1 validation error detected: Value null at 'webIdentityToken' failed to satisfy constraint: Member must not be null"))
		return
	case action == "AssumeRoleWithWebIdentity" && !federated:
		fail(errorf(403, "AccessDenied", "Not authorized to perform sts:AssumeRoleWithWebIdentity"))
		return
	case action == "AssumeRoleWithWebIdentity" && wantToken != form.Get("WebIdentityToken"):
		fail(errorf(400, "InvalidIdentityToken", "Couldn't retrieve verification key from your identity provider, please reference AssumeRoleWithWebIdentity documentation for requirements"))
		return
	}
	duration := 3600 * time.Second
	if d := form.Get("DurationSeconds"); d != "" {
		var n int
		fmt.Sscan(d, &n) //nolint:errcheck
		duration = time.Duration(n) * time.Second
	}
	key := "ASIA" + strings.ToUpper(rand.Text()[:16])
	creds := tempCreds{secret: rand.Text(), token: "emu-session-" + rand.Text(), expires: time.Now().Add(duration).UTC(), role: role}
	s.mu.Lock()
	s.issued[key] = creds
	s.mu.Unlock()
	name := role[strings.LastIndex(role, "/")+1:]
	w.Header().Set("Content-Type", "text/xml")
	credentials := fmt.Sprintf(`<Credentials><AccessKeyId>%s</AccessKeyId><SecretAccessKey>%s</SecretAccessKey><SessionToken>%s</SessionToken><Expiration>%s</Expiration></Credentials>`,
		key, creds.secret, creds.token, creds.expires.Format(time.RFC3339))
	user := fmt.Sprintf(`<AssumedRoleUser><Arn>arn:aws:sts::%s:assumed-role/%s/%s</Arn><AssumedRoleId>AROAEMULATOR:%s</AssumedRoleId></AssumedRoleUser>`,
		AccountID, xmlEscape(name), xmlEscape(session), xmlEscape(session))
	if action == "AssumeRole" {
		fmt.Fprintf(w, `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>%s%s</AssumeRoleResult><ResponseMetadata><RequestId>emu</RequestId></ResponseMetadata></AssumeRoleResponse>`,
			credentials, user)
		return
	}
	fmt.Fprintf(w, `<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleWithWebIdentityResult>`+
		`<SubjectFromWebIdentityToken>system:serviceaccount:alphaswarm:controller</SubjectFromWebIdentityToken><Audience>sts.amazonaws.com</Audience>%s%s`+
		`<Provider>arn:aws:iam::%s:oidc-provider/oidc.emulator.local</Provider></AssumeRoleWithWebIdentityResult><ResponseMetadata><RequestId>emu</RequestId></ResponseMetadata></AssumeRoleWithWebIdentityResponse>`,
		user, credentials, AccountID)
}

// ExpireSessions makes every credential STS issued expire now.
func (s *Server) ExpireSessions() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, c := range s.issued {
		c.expires = time.Now().Add(-time.Second)
		s.issued[k] = c
	}
}

// AssumedCalls counts the calls made with credentials of role.
func (s *Server) AssumedCalls(role string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.assumed[role]
}

func xmlEscape(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s)) //nolint:errcheck
	return b.String()
}
