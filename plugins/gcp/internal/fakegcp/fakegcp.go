// Package fakegcp serves in-process fakes of the Google Cloud APIs the GCP
// backend calls, over gRPC on loopback: Cloud Run v2 services with their
// long-running operations, Secret Manager, Cloud Logging (listing and
// tailing the lines of the services' instances) and Cloud Monitoring (the
// revisions' CPU and memory utilisation). The real client libraries
// reach them through the backend's endpoint option, without authentication
// and on plaintext gRPC.
//
// The fakes keep state and behave as Google documents: an operation is
// never done on its first poll; a service is reconciling until its new
// revision is ready, which takes a short while whether or not anyone polls;
// an image marked missing ends with a failed terminal condition and a failed
// operation; list calls page. Faults are injected per method: a number of
// calls answering a gRPC code (UNAVAILABLE, RESOURCE_EXHAUSTED,
// UNAUTHENTICATED for expired credentials), operations that fail, slower
// revisions, and concurrent changes of a service's IAM policy.
package fakegcp

import (
	"context"
	"encoding/base64"
	"fmt"
	"net"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"cloud.google.com/go/logging/apiv2/loggingpb"
	"cloud.google.com/go/longrunning/autogen/longrunningpb"
	"cloud.google.com/go/monitoring/apiv3/v2/monitoringpb"
	"cloud.google.com/go/run/apiv2/runpb"
	"cloud.google.com/go/secretmanager/apiv1/secretmanagerpb"
	rpcstatus "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Server is the fake Google Cloud: one gRPC server on a loopback port that
// serves Run's Services, the Operations of its long-running operations and
// Secret Manager.
type Server struct {
	lis  net.Listener
	grpc *grpc.Server

	mu         sync.Mutex
	services   map[string]*service // by full name
	operations map[string]*operation
	secrets    map[string]*secret // by full name
	logs       []*loggingpb.LogEntry
	faults     []*fault
	missing    map[string]string // image -> message
	calls      map[string]int    // method -> calls
	delay      time.Duration
	seq        int
	// conflicts is how many SetIamPolicy calls on services still find a
	// concurrent change (ConcurrentPolicyChanges).
	conflicts int
	// failedOps are the next operations that end with an error
	// (FailOperations).
	failedOps []*rpcstatus.Status
	// PageSize is the largest page a list call answers with, whatever the
	// caller asks for, so that callers must follow page tokens.
	pageSize int
	// hooks run after a call (AfterCall).
	hooks []*hook
}

// hook runs once after the next call of method that succeeds (AfterCall).
type hook struct {
	method string
	fn     func()
}

type fault struct {
	method  string
	code    codes.Code
	message string
	left    int
}

// Start serves the fakes on a free loopback port until Stop.
func Start() (*Server, error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	s := &Server{
		lis: lis, services: map[string]*service{}, operations: map[string]*operation{}, secrets: map[string]*secret{},
		missing: map[string]string{}, calls: map[string]int{}, delay: 150 * time.Millisecond, pageSize: 2,
	}
	s.grpc = grpc.NewServer(grpc.UnaryInterceptor(s.intercept))
	runpb.RegisterServicesServer(s.grpc, &runServer{s: s})
	longrunningpb.RegisterOperationsServer(s.grpc, &operationsServer{s: s})
	secretmanagerpb.RegisterSecretManagerServiceServer(s.grpc, &secretServer{s: s})
	loggingpb.RegisterLoggingServiceV2Server(s.grpc, &loggingServer{s: s})
	monitoringpb.RegisterMetricServiceServer(s.grpc, &monitoringServer{s: s})
	go s.grpc.Serve(lis)
	return s, nil
}

// Addr is the host:port the fakes listen on: the backend's endpoint.
func (s *Server) Addr() string { return s.lis.Addr().String() }

// Stop ends the server.
func (s *Server) Stop() { s.grpc.Stop() }

// Fail makes the next times calls of method (its short name, such as
// "CreateService" or "GetOperation", or a qualified one such as
// "Services/SetIamPolicy") answer code.
func (s *Server) Fail(method string, code codes.Code, times int) {
	s.FailWith(method, code, fmt.Sprintf("fakegcp: injected %s on %s", code, method), times)
}

// FailWith is Fail with the message Google would send, such as the one of
// an expired access token.
func (s *Server) FailWith(method string, code codes.Code, message string, times int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &fault{method: method, code: code, message: message, left: times})
}

// FailOperations makes the next times long-running operations of Run
// (create, update or delete of a service) end with code and message once
// their change is due, as an operation Google could not complete does: the
// service's terminal condition fails with the message, and a deletion
// leaves the service in place.
func (s *Server) FailOperations(code codes.Code, message string, times int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range times {
		s.failedOps = append(s.failedOps, &rpcstatus.Status{Code: int32(code), Message: message})
	}
}

// MissingImage makes every revision of image fail, as Cloud Run does when
// it cannot pull it.
func (s *Server) MissingImage(image string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.missing[image] = fmt.Sprintf("Image '%s' not found.", image)
}

// SetRevisionDelay sets how long a new revision takes to become ready (or
// fail), and a deletion to finish; 150ms unless set.
func (s *Server) SetRevisionDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = d
}

// Calls says how many times method (named as in Fail) was called.
func (s *Server) Calls(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[method]
}

// AllCalls says how many calls of any method the fake answered.
func (s *Server) AllCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for m, c := range s.calls {
		if !strings.Contains(m, "/") {
			n += c
		}
	}
	return n
}

// intercept counts calls and answers injected faults.
// A method is named by its short name ("SetIamPolicy"), which counts and
// fails it in every API, or qualified by its service's last name
// ("Services/SetIamPolicy" for Run's, "SecretManagerService/SetIamPolicy").
func (s *Server) intercept(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	svc, method := path.Split(info.FullMethod)
	svc = strings.TrimSuffix(svc, "/")
	qualified := svc[strings.LastIndex(svc, ".")+1:] + "/" + method
	s.mu.Lock()
	s.calls[method]++
	s.calls[qualified]++
	for i, f := range s.faults {
		if (f.method == method || f.method == qualified) && f.left > 0 {
			if f.left--; f.left == 0 {
				s.faults = append(s.faults[:i], s.faults[i+1:]...)
			}
			s.mu.Unlock()
			return nil, status.Error(f.code, f.message)
		}
	}
	s.mu.Unlock()
	resp, err := handler(ctx, req)
	if err == nil {
		s.runHooks(method, qualified)
	}
	return resp, err
}

// AfterCall runs fn once, after the next call of method (named as in
// Fail) that succeeds and before its answer is sent: a test cuts an apply
// short there, by cancelling its context.
func (s *Server) AfterCall(method string, fn func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hooks = append(s.hooks, &hook{method: method, fn: fn})
}

func (s *Server) runHooks(method, qualified string) {
	s.mu.Lock()
	var run []func()
	s.hooks = slices.DeleteFunc(s.hooks, func(h *hook) bool {
		if h.method == method || h.method == qualified {
			run = append(run, h.fn)
			return true
		}
		return false
	})
	s.mu.Unlock()
	for _, fn := range run {
		fn()
	}
}

// page returns one page of items, which are sorted by key, and the next
// page's token: the key of the page's last item, so that items created or
// deleted between two calls neither shift nor hide the others, as the
// API's own tokens do.
func page[T any](items []T, key func(T) string, token string, size int32, max int) ([]T, string, error) {
	start := 0
	if token != "" {
		after, err := base64.RawURLEncoding.DecodeString(token)
		if err != nil {
			return nil, "", status.Errorf(codes.InvalidArgument, "bad page token %q", token)
		}
		start = sort.Search(len(items), func(i int) bool { return key(items[i]) > string(after) })
	}
	n := max
	if size > 0 && int(size) < n {
		n = int(size)
	}
	end := min(start+n, len(items))
	next := ""
	if end < len(items) && end > start {
		next = base64.RawURLEncoding.EncodeToString([]byte(key(items[end-1])))
	}
	return items[start:end], next, nil
}
