// Package awsemu is an emulator of the parts of AWS that the aws backend
// calls: Amazon ECS, CloudWatch Logs, Secrets Manager, Cloud Map
// (servicediscovery) HTTP namespaces, Elastic Load Balancing's target
// groups and listener rules, and CloudWatch's GetMetricData. It is test
// support, not a product: tests start it on loopback and point the real
// aws-sdk-go-v2 clients at it through their BaseEndpoint.
//
// It speaks the real wire protocols (awsJson1_1: a POST of a JSON body with
// X-Amz-Target naming the operation, errors as {"__type", "message"} with
// the status codes AWS uses; and for CloudWatch the Smithy RPC v2 CBOR
// protocol of current clients), checks that every request is SigV4-signed by
// the configured access key with its secret, keeps state, paginates list
// calls with nextToken, and runs ECS deployments asynchronously: tasks go
// PROVISIONING, PENDING, RUNNING over time, a new deployment stays
// IN_PROGRESS until its tasks run and the old ones have stopped. Faults
// (throttling, 5xx, slow answers, expired credentials) are injected on
// request; MissingImage, FargateVCPUQuota and DeleteCluster make the
// failures ECS reports asynchronously or for a cluster gone.
package awsemu

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// The emulated account. STS (awsQuery) issues temporary credentials for
// the roles AddRole makes assumable.
const (
	AccountID = "123456789012"
	// AccessKeyID and SecretAccessKey are the credentials it accepts.
	AccessKeyID     = "AKIAEMULATOR00000001"
	SecretAccessKey = "emulator-secret-access-key"
)

// StatePath is the emulator's own read-only inspection endpoint: a GET
// answers its Snapshot as JSON, for tests that run it as a process of its
// own (cmd/awsemu). No AWS API has this path.
const StatePath = "/_emulator/state"

// Options tune the emulator.
type Options struct {
	// Region is the region it answers for; default us-east-1.
	Region string
	// Step is how long a task stays in each state before the next one
	// (PROVISIONING, PENDING, RUNNING; and on stop, DEACTIVATING, STOPPED);
	// default 150ms.
	Step time.Duration
	// PageSize caps the items of one list page; default 3, small so that
	// clients must paginate.
	PageSize int
	// CreateLag is how long DescribeServices answers MISSING for a service
	// just created, as ECS's eventual consistency does; default Step.
	CreateLag time.Duration
}

// Server is a running emulator.
type Server struct {
	URL  string
	opts Options
	ln   net.Listener
	srv  *http.Server

	mu     sync.Mutex
	faults []*fault
	calls  map[string]int
	// missingImages are images whose pull fails.
	missingImages map[string]bool
	roles         map[string]string    // assumable role ARN -> external id
	webRoles      map[string]string    // role ARN -> the web identity token that may assume it
	issued        map[string]tempCreds // access key -> credentials STS issued
	assumed       map[string]int       // role -> calls made as it
	ecs           *ecsState
	logs          *logsState
	sm            *smState
	sd            *sdState
	elb           *elbState
}

// Start serves the emulator on a loopback port until Close.
func Start(opts Options) (*Server, error) {
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	if opts.Step <= 0 {
		opts.Step = 150 * time.Millisecond
	}
	if opts.CreateLag == 0 {
		opts.CreateLag = opts.Step
	}
	if opts.PageSize <= 0 {
		opts.PageSize = 3
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	s := &Server{URL: "http://" + ln.Addr().String(), opts: opts, ln: ln, calls: map[string]int{}, missingImages: map[string]bool{},
		roles: map[string]string{}, webRoles: map[string]string{}, issued: map[string]tempCreds{}, assumed: map[string]int{}}
	s.ecs = newECS(s)
	s.logs = &logsState{groups: map[string]*logGroup{}}
	s.sm = &smState{secrets: map[string]*secret{}}
	s.sd = newSD()
	s.elb = newELB()
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go s.srv.Serve(ln) //nolint:errcheck // ends with Close
	return s, nil
}

// Close stops the emulator.
func (s *Server) Close() { s.srv.Close() }

// Calls returns how many times the operation (such as "ecs.CreateService")
// was called, faults included.
func (s *Server) Calls(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[op]
}

// MissingImage makes every pull of image fail, as for an image that does
// not exist: its tasks stop with CannotPullContainerError, and the
// deployment circuit breaker trips.
func (s *Server) MissingImage(image string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.missingImages[image] = true
}

// Ops lists every operation called so far, as "ecs.CreateService".
func (s *Server) Ops() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Sorted(maps.Keys(s.calls))
}

// Fault kinds.
const (
	FaultThrottle = "throttle"     // 400 ThrottlingException, retryable
	Fault5xx      = "server"       // 500 ServerException / InternalServiceError
	FaultExpired  = "expired"      // 400 ExpiredTokenException
	FaultSlow     = "slow"         // answers after a second
	FaultNoCreds  = "unrecognized" // 400 UnrecognizedClientException
)

type fault struct {
	op, kind string
	count    int
}

// InjectFault makes the next count calls of op ("ecs.CreateService", or
// "ecs.*" for every ECS operation, "*" for all) fail with kind.
func (s *Server) InjectFault(op, kind string, count int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &fault{op: op, kind: kind, count: count})
}

// ClearFaults removes every fault not yet fired.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// apiError is an error answer in the awsJson1_1 shape.
type apiError struct {
	status int
	code   string
	msg    string
}

func (e *apiError) Error() string { return e.code + ": " + e.msg }

func errorf(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, msg: fmt.Sprintf(format, args...)}
}

// services maps the X-Amz-Target prefix to the emulated service and its
// signing name.
var services = map[string]struct{ name, signing string }{
	"AmazonEC2ContainerServiceV20141113": {"ecs", "ecs"},
	"Logs_20140328":                      {"logs", "logs"},
	"secretsmanager":                     {"secretsmanager", "secretsmanager"},
	"Route53AutoNaming_v20170314":        {"servicediscovery", "servicediscovery"},
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	if err != nil {
		writeError(w, errorf(400, "SerializationException", "read body: %v", err))
		return
	}
	if r.Method == http.MethodGet && r.URL.Path == StatePath {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(s.Snapshot()) //nolint:errcheck
		return
	}
	if isQuery(r) {
		s.serveQuery(w, r, body)
		return
	}
	if strings.HasPrefix(r.URL.Path, "/service/"+cloudWatchService+"/operation/") {
		s.serveCBOR(w, r, body)
		return
	}
	target := r.Header.Get("X-Amz-Target")
	prefix, opName, ok := strings.Cut(target, ".")
	svc, known := services[prefix]
	if r.Method != http.MethodPost || !ok || !known {
		writeError(w, errorf(400, "UnknownOperationException", "unknown target %q", target))
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-amz-json-1.1" {
		writeError(w, errorf(400, "SerializationException", "content type %q, want application/x-amz-json-1.1", ct))
		return
	}
	op := svc.name + "." + opName
	if aerr := s.checkSignature(r, body, svc.signing); aerr != nil {
		writeError(w, aerr)
		return
	}
	if aerr := s.fire(op, r.Context()); aerr != nil {
		writeError(w, aerr)
		return
	}
	var out any
	var aerr *apiError
	switch svc.name {
	case "ecs":
		out, aerr = s.ecs.handle(opName, body)
	case "logs":
		s.mu.Lock()
		out, aerr = s.logs.handle(opName, body)
		s.mu.Unlock()
	case "secretsmanager":
		out, aerr = s.sm.handle(s, opName, body)
	case "servicediscovery":
		out, aerr = s.handleSD(opName, body)
	}
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-RequestId", fmt.Sprintf("emu-%d", time.Now().UnixNano()))
	if out == nil {
		out = struct{}{}
	}
	json.NewEncoder(w).Encode(out) //nolint:errcheck // the client sees a short body
}

// fire counts the call and returns the fault due for it, if any.
func (s *Server) fire(op string, ctx context.Context) *apiError {
	s.mu.Lock()
	s.calls[op]++
	var kind string
	for _, f := range s.faults {
		svc, _, _ := strings.Cut(op, ".")
		if f.count > 0 && (f.op == op || f.op == "*" || f.op == svc+".*") {
			f.count--
			kind = f.kind
			break
		}
	}
	s.mu.Unlock()
	switch kind {
	case FaultThrottle:
		return errorf(400, "ThrottlingException", "Rate exceeded")
	case Fault5xx:
		return errorf(500, "ServerException", "Service unavailable, please retry")
	case FaultExpired:
		return errorf(400, "ExpiredTokenException", "The security token included in the request is expired")
	case FaultNoCreds:
		return errorf(400, "UnrecognizedClientException", "The security token included in the request is invalid.")
	case FaultSlow:
		select {
		case <-time.After(time.Second):
		case <-ctx.Done():
		}
	}
	return nil
}

// checkSignature verifies the request's SigV4 signature: the access key
// must be AccessKeyID, and signing the request again with its secret must
// give the same signature.
func (s *Server) checkSignature(r *http.Request, body []byte, service string) *apiError {
	auth := r.Header.Get("Authorization")
	const algo = "AWS4-HMAC-SHA256 "
	if !strings.HasPrefix(auth, algo) {
		return errorf(400, "MissingAuthenticationTokenException", "Missing Authentication Token")
	}
	fields := map[string]string{}
	for _, part := range strings.Split(strings.TrimPrefix(auth, algo), ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		fields[k] = v
	}
	scope := strings.Split(fields["Credential"], "/")
	if len(scope) != 5 || scope[4] != "aws4_request" {
		return errorf(400, "IncompleteSignatureException", "malformed Credential")
	}
	secret := SecretAccessKey
	if scope[0] != AccessKeyID {
		s.mu.Lock()
		c, ok := s.issued[scope[0]]
		if ok && c.token == r.Header.Get("X-Amz-Security-Token") && time.Now().Before(c.expires) {
			s.assumed[c.role]++
		}
		s.mu.Unlock()
		switch {
		case !ok || c.token != r.Header.Get("X-Amz-Security-Token"):
			return errorf(400, "UnrecognizedClientException", "The security token included in the request is invalid.")
		case !time.Now().Before(c.expires):
			return errorf(400, "ExpiredTokenException", "The security token included in the request is expired")
		}
		secret = c.secret
	}
	if scope[2] != s.opts.Region || scope[3] != service {
		return errorf(400, "InvalidSignatureException", "Credential should be scoped to a valid region and service %s/%s", s.opts.Region, service)
	}
	when, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil {
		return errorf(400, "IncompleteSignatureException", "missing or bad X-Amz-Date")
	}
	again, _ := http.NewRequest(r.Method, "http://"+r.Host+r.URL.RequestURI(), bytes.NewReader(body))
	again.Host = r.Host
	for _, h := range strings.Split(fields["SignedHeaders"], ";") {
		if h != "host" {
			again.Header[http.CanonicalHeaderKey(h)] = r.Header.Values(h)
		}
	}
	again.Header.Del("Authorization")
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: scope[0], SecretAccessKey: secret, SessionToken: r.Header.Get("X-Amz-Security-Token")}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, again, hex.EncodeToString(sum[:]), service, s.opts.Region, when); err != nil {
		return errorf(500, "InternalFailure", "sign: %v", err)
	}
	if got := signatureOf(again.Header.Get("Authorization")); got != fields["Signature"] {
		return errorf(403, "InvalidSignatureException", "The request signature we calculated does not match the signature you provided.")
	}
	return nil
}

func signatureOf(auth string) string {
	_, sig, _ := strings.Cut(auth, "Signature=")
	return sig
}

func writeError(w http.ResponseWriter, e *apiError) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-ErrorType", e.code)
	w.WriteHeader(e.status)
	json.NewEncoder(w).Encode(map[string]string{"__type": e.code, "message": e.msg}) //nolint:errcheck
}

// decode reads a request body into v, refusing unknown members as AWS's
// SerializationException would for a malformed one.
func decode(body []byte, v any) *apiError {
	if len(body) == 0 {
		body = []byte("{}")
	}
	if err := json.Unmarshal(body, v); err != nil {
		return errorf(400, "SerializationException", "%v", err)
	}
	return nil
}

// page cuts items into a page from token; it returns the page and the
// next token ("" at the end).
func page[T any](items []T, token string, max, pageSize int) ([]T, string, *apiError) {
	start := 0
	if token != "" {
		if _, err := fmt.Sscanf(token, "emu-%d", &start); err != nil || start < 0 {
			return nil, "", errorf(400, "InvalidParameterException", "invalid nextToken")
		}
		// A token AWS issued stays valid while the list shrinks (tasks
		// stop between two pages): past the end is the last, empty page.
		start = min(start, len(items))
	}
	size := pageSize
	if max > 0 && max < size {
		size = max
	}
	end := min(start+size, len(items))
	next := ""
	if end < len(items) {
		next = fmt.Sprintf("emu-%d", end)
	}
	return items[start:end], next, nil
}

func epoch(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }
