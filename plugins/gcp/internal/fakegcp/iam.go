package fakegcp

import (
	"context"
	"fmt"
	"strings"

	"cloud.google.com/go/iam/apiv1/iampb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// The IAM policies of Run services, as Google keeps them: each write gives
// the policy a new etag, and a write that carries an etag other than the
// current one is refused with ABORTED (someone changed the policy since it
// was read); a write without an etag overwrites.

// abortedMessage is what Google answers a write with a stale etag.
const abortedMessage = "There were concurrent policy changes. Please retry the whole read-modify-write with exponential backoff."

// iamPolicy is a service's policy and the writes it has had.
type iamPolicy struct {
	policy *iampb.Policy
	writes int
}

func (p *iamPolicy) etag() []byte { return fmt.Appendf(nil, "BwY%05d", p.writes) }

// current is the service's policy, with its etag: empty until a write.
func (p *iamPolicy) current() *iampb.Policy {
	out := &iampb.Policy{Version: 1}
	if p.policy != nil {
		out = proto.Clone(p.policy).(*iampb.Policy)
	}
	out.Etag = p.etag()
	return out
}

// write replaces the policy and changes its etag.
func (p *iamPolicy) write(next *iampb.Policy) {
	p.writes++
	p.policy = proto.Clone(next).(*iampb.Policy)
	p.policy.Etag = nil
}

// ServicePolicy is the IAM policy of the Run service name, or nil when
// there is no such service.
func (s *Server) ServicePolicy(name string) *iampb.Policy {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	sv := s.services[name]
	if sv == nil {
		return nil
	}
	return sv.iam.current()
}

// SetServicePolicy writes the IAM policy of the Run service name as
// someone other than the plugin would (an operator), changing its etag.
func (s *Server) SetServicePolicy(name string, p *iampb.Policy) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	sv := s.services[name]
	if sv == nil {
		return fmt.Errorf("set the policy of service %s: no such service", name)
	}
	sv.iam.write(p)
	return nil
}

// ConcurrentPolicyChanges makes the next times SetIamPolicy calls on Run
// services find their policy changed by someone else since it was read:
// just before each, another writer adds a binding of its own
// (roles/run.viewer for user:concurrent-<n>@example.com), so that the call,
// whose etag is now stale, is refused with ABORTED.
func (s *Server) ConcurrentPolicyChanges(times int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.conflicts += times
}

// checkMembers refuses members IAM does not know.
func checkMembers(p *iampb.Policy) error {
	for _, b := range p.GetBindings() {
		if !strings.HasPrefix(b.Role, "roles/") {
			return status.Errorf(codes.InvalidArgument, "role %q", b.Role)
		}
		for _, m := range b.Members {
			if !strings.HasPrefix(m, "serviceAccount:") && !strings.HasPrefix(m, "user:") && !strings.HasPrefix(m, "group:") && m != "allUsers" {
				return status.Errorf(codes.InvalidArgument, "member %q", m)
			}
		}
	}
	return nil
}

func (r *runServer) GetIamPolicy(_ context.Context, req *iampb.GetIamPolicyRequest) (*iampb.Policy, error) {
	s := r.s
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	sv := s.services[req.Resource]
	if sv == nil || sv.deleting {
		return nil, status.Errorf(codes.NotFound, "service %s not found", req.Resource)
	}
	return sv.iam.current(), nil
}

func (r *runServer) SetIamPolicy(_ context.Context, req *iampb.SetIamPolicyRequest) (*iampb.Policy, error) {
	s := r.s
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advance()
	sv := s.services[req.Resource]
	if sv == nil || sv.deleting {
		return nil, status.Errorf(codes.NotFound, "service %s not found", req.Resource)
	}
	if err := checkMembers(req.Policy); err != nil {
		return nil, err
	}
	if s.conflicts > 0 {
		s.conflicts--
		other := sv.iam.current()
		other.Bindings = append(other.Bindings, &iampb.Binding{Role: "roles/run.viewer",
			Members: []string{fmt.Sprintf("user:concurrent-%d@example.com", sv.iam.writes+1)}})
		sv.iam.write(other)
	}
	if etag := req.GetPolicy().GetEtag(); len(etag) > 0 && string(etag) != string(sv.iam.etag()) {
		return nil, status.Error(codes.Aborted, abortedMessage)
	}
	sv.iam.write(req.Policy)
	return sv.iam.current(), nil
}
