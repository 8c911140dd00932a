// Package apiclient is the Go client of the host's HTTP API, used by the
// swarmctl commands that talk to a controller (plan, apply, status, logs,
// exec and the runtime operations). Its requests and answers are the
// documents of package wire, which the API server shares. It decodes
// problem documents into *Error, reads server-sent event streams, and
// speaks the exec WebSocket protocol.
//
// (A plugin's client, which the host uses to call backends over gRPC, is
// another thing, in the SDK.)
package apiclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/alphaswarm/controller/host/internal/api/wire"
)

// Client calls one controller with one access token.
type Client struct {
	base  *url.URL
	token string
	http  *http.Client
}

// New returns a client of the controller at base (ALPHASWARM_CONTROLLER_URL)
// that sends token (ALPHASWARM_TOKEN).
func New(base, token string) (*Client, error) {
	u, err := url.Parse(strings.TrimSuffix(base, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("controller URL %q is not an http(s) URL", base)
	}
	if token == "" {
		return nil, errors.New("no access token: set ALPHASWARM_TOKEN (swarmctl dev prints one for dev mode)")
	}
	return &Client{base: u, token: token, http: &http.Client{}}, nil
}

// Error is a problem document the controller answered.
type Error struct {
	wire.Problem
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("%d %s", e.Status, e.Title)
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	if e.Field != "" {
		msg += " (field " + e.Field + ")"
	}
	return msg
}

// request builds an authorized request of path (with its query).
func (c *Client) request(ctx context.Context, method, path string, body any) (*http.Request, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("encode request: %w", err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base.String()+path, r)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("User-Agent", "swarmctl")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, nil
}

// send performs req and returns the response when its status is 2xx, or
// the problem it carries.
func (c *Client) send(req *http.Request) (*http.Response, error) {
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, &UnreachableError{Host: c.base.Host, Err: unwrapURL(err)}
	}
	if resp.StatusCode < 300 {
		return resp, nil
	}
	defer resp.Body.Close()
	return nil, problem(resp)
}

// UnreachableError says the controller did not answer at all.
type UnreachableError struct {
	Host string
	Err  error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("reach the controller at %s: %v", e.Host, e.Err)
}

func (e *UnreachableError) Unwrap() error { return e.Err }

func unwrapURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func problem(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	e := &Error{wire.Problem{Status: resp.StatusCode, Title: http.StatusText(resp.StatusCode)}}
	if json.Unmarshal(b, e) != nil || e.Status == 0 {
		e.Status, e.Detail = resp.StatusCode, strings.TrimSpace(string(b))
	}
	return e
}

// call sends a JSON request and decodes a JSON answer into out.
func (c *Client) call(ctx context.Context, method, path string, body, out any) error {
	req, err := c.request(ctx, method, path, body)
	if err != nil {
		return err
	}
	resp, err := c.send(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("decode the controller's answer to %s %s: %w", method, path, err)
	}
	return nil
}

// Ref names a deployment as the CLI does: tenant/name, and an environment
// when the name exists in several.
type Ref struct {
	Tenant, Name, Environment string
}

// ParseRef reads "tenant/name".
func ParseRef(s, env string) (Ref, error) {
	tenant, name, ok := strings.Cut(s, "/")
	if !ok || tenant == "" || name == "" || strings.Contains(name, "/") {
		return Ref{}, fmt.Errorf("deployment %q is not tenant/name", s)
	}
	return Ref{Tenant: tenant, Name: name, Environment: env}, nil
}

func (r Ref) String() string { return r.Tenant + "/" + r.Name }

// path is the deployment's route plus suffix, with ?environment= when set.
func (r Ref) path(suffix string, query url.Values) string {
	if query == nil {
		query = url.Values{}
	}
	if r.Environment != "" {
		query.Set("environment", r.Environment)
	}
	p := "/v1/deployments/" + url.PathEscape(r.Tenant) + "/" + url.PathEscape(r.Name) + suffix
	if len(query) > 0 {
		p += "?" + query.Encode()
	}
	return p
}
