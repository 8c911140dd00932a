package pluginmirror

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Size caps of what a mirror sends, and the default request timeout.
const (
	maxDocument      = 1 << 20 // index.json, <ver>.json, SHA256SUMS
	maxSignature     = 64 << 10
	maxRedirects     = 5
	defaultTimeout   = 2 * time.Minute
	defaultMaxZip    = 512 << 20
	defaultMaxBinary = 1 << 30
)

// Options tunes a Mirror; the zero value gives the defaults.
type Options struct {
	// Timeout bounds each request to a network mirror, from connecting to
	// the last byte (default 2m).
	Timeout time.Duration
	// MaxArchiveSize caps an archive's size (default 512 MiB).
	MaxArchiveSize int64
	// MaxBinarySize caps the unpacked binary (default 1 GiB).
	MaxBinarySize int64
}

func (o Options) withDefaults() Options {
	if o.Timeout <= 0 {
		o.Timeout = defaultTimeout
	}
	if o.MaxArchiveSize <= 0 {
		o.MaxArchiveSize = defaultMaxZip
	}
	if o.MaxBinarySize <= 0 {
		o.MaxBinarySize = defaultMaxBinary
	}
	return o
}

// Mirror is a filesystem or network mirror.
type Mirror struct {
	base   string   // as the operator gave it
	dir    string   // a filesystem mirror's directory
	url    *url.URL // a network mirror's base URL, ending in "/"
	client *http.Client
	opts   Options
}

// loc is where one file of a mirror is: a path or a URL.
type loc struct {
	path string
	url  *url.URL
}

func (l loc) String() string {
	if l.url == nil {
		return l.path
	}
	u := *l.url
	u.RawQuery, u.Fragment = "", ""
	return u.String()
}

// Open returns the mirror at base: an https:// (or loopback http://) URL,
// or a directory.
func Open(base string, opts Options) (*Mirror, error) {
	m := &Mirror{base: base, opts: opts.withDefaults()}
	if strings.Contains(base, "://") {
		u, err := url.Parse(base)
		if err != nil {
			return nil, fmt.Errorf("open mirror: parse its URL: %w", scrub(err))
		}
		m.base = u.Redacted()
		if err := checkURL(u); err != nil {
			return nil, fmt.Errorf("open mirror %s: %w", m.base, err)
		}
		if !strings.HasSuffix(u.Path, "/") {
			u.Path += "/"
		}
		m.url, m.client = u, newClient(m.opts.Timeout)
		return m, nil
	}
	st, err := os.Stat(base)
	if err != nil {
		return nil, fmt.Errorf("open mirror directory: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("open mirror %s: not a directory, nor an https:// URL", base)
	}
	m.dir = base
	return m, nil
}

// String is the mirror as the operator gave it.
func (m *Mirror) String() string { return m.base }

// checkURL allows https, and plain http only to a loopback host, without
// credentials in the URL.
func checkURL(u *url.URL) error {
	if u.User != nil {
		return errors.New("a mirror URL may not carry credentials")
	}
	if u.Host == "" {
		return fmt.Errorf("URL %s has no host", u.Redacted())
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if isLoopback(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("URL %s: plain http is allowed only on loopback; use https", u.Redacted())
	}
	return fmt.Errorf("URL %s: scheme %q is neither https nor loopback http", u.Redacted(), u.Scheme)
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func newClient(timeout time.Duration) *http.Client {
	t := &http.Transport{
		Proxy:                  http.ProxyFromEnvironment,
		DialContext:            (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
		TLSHandshakeTimeout:    10 * time.Second,
		ResponseHeaderTimeout:  timeout,
		MaxResponseHeaderBytes: 64 << 10,
		ForceAttemptHTTP2:      true,
	}
	return &http.Client{Transport: t, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if len(via) >= maxRedirects {
			return fmt.Errorf("stopped after %d redirects", maxRedirects)
		}
		if err := reachableFrom(via[0].URL, req.URL); err != nil {
			return err
		}
		return checkURL(req.URL)
	}}
}

// doc is where file of plugin name is, as <base>/<name>/<file>.
func (m *Mirror) doc(name, file string) loc {
	if m.url == nil {
		return loc{path: filepath.Join(m.dir, name, file)}
	}
	return loc{url: m.url.JoinPath(name, file)}
}

// resolve reads ref, a reference in the document at from. In a directory
// mirror it must be a plain file name beside from; in a network mirror a
// relative URL resolves against from and an absolute one must be https.
func (m *Mirror) resolve(from loc, ref string) (loc, error) {
	if ref == "" {
		return loc{}, errors.New("empty reference")
	}
	if m.url == nil {
		if strings.ContainsAny(ref, `/\:`) || ref == "." || ref == ".." {
			return loc{}, fmt.Errorf("reference %q is not a plain file name beside %s", ref, filepath.Base(from.path))
		}
		return loc{path: filepath.Join(filepath.Dir(from.path), ref)}, nil
	}
	u, err := url.Parse(ref)
	if err != nil {
		return loc{}, fmt.Errorf("reference %q: %w", ref, err)
	}
	if u.IsAbs() && u.Scheme != "https" {
		return loc{}, fmt.Errorf("reference %s: an absolute URL must be https", u.Redacted())
	}
	u = from.url.ResolveReference(u)
	if err := reachableFrom(from.url, u); err != nil {
		return loc{}, err
	}
	if err := checkURL(u); err != nil {
		return loc{}, err
	}
	return loc{url: u}, nil
}

// reachableFrom refuses a loopback address reached from a mirror that is
// not itself on loopback: a remote mirror must not make swarmctl fetch from
// services on the operator's own machine.
func reachableFrom(from, to *url.URL) error {
	if isLoopback(to.Hostname()) && !isLoopback(from.Hostname()) {
		return fmt.Errorf("%s leads to %s on this machine, which a remote mirror may not reach", from.Redacted(), to.Redacted())
	}
	return nil
}

// errNotFound marks a file the mirror does not have.
var errNotFound = errors.New("not found")

// read returns the file at l, refusing one larger than max.
func (m *Mirror) read(ctx context.Context, l loc, max int64) ([]byte, error) {
	var buf bytes.Buffer
	if _, err := m.copy(ctx, l, max, &buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// copy writes the file at l to w, refusing one larger than max.
func (m *Mirror) copy(ctx context.Context, l loc, max int64, w io.Writer) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, m.opts.Timeout)
	defer cancel()
	r, err := m.open(ctx, l)
	if err != nil {
		return 0, err
	}
	defer r.Close()
	n, err := io.Copy(w, io.LimitReader(r, max+1))
	if err != nil {
		return n, fmt.Errorf("read %s: %w", l, err)
	}
	if n > max {
		return n, fmt.Errorf("read %s: larger than %d bytes", l, max)
	}
	return n, nil
}

func (m *Mirror) open(ctx context.Context, l loc) (io.ReadCloser, error) {
	if l.url == nil {
		st, err := os.Lstat(l.path)
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("read %s: %w", l, errNotFound)
		}
		if err != nil {
			return nil, fmt.Errorf("read mirror file: %w", err)
		}
		if !st.Mode().IsRegular() {
			return nil, fmt.Errorf("read %s: not a regular file", l)
		}
		f, err := os.Open(l.path)
		if err != nil {
			return nil, fmt.Errorf("read mirror file: %w", err)
		}
		return f, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, l.url.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", l, err)
	}
	resp, err := m.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", l, scrub(err))
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		if resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone {
			return nil, fmt.Errorf("get %s: %s: %w", l, resp.Status, errNotFound)
		}
		return nil, fmt.Errorf("get %s: %s", l, resp.Status)
	}
	return resp.Body, nil
}

// scrub keeps a URL error's cause without its URL, which may carry a query
// the mirror chose (a signed URL).
func scrub(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
