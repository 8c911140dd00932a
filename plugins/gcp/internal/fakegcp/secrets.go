package fakegcp

import (
	"context"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"cloud.google.com/go/iam/apiv1/iampb"
	"cloud.google.com/go/secretmanager/apiv1/secretmanagerpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// secret is one Secret Manager secret and its versions' payloads.
type secret struct {
	sec      *secretmanagerpb.Secret
	versions [][]byte
	policy   *iampb.Policy
}

var secretID = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,255}$`)

// Secret is a secret as the fake keeps it: its labels and annotations, and
// the payload of each version, oldest first.
type Secret struct {
	Labels, Annotations map[string]string
	Versions            []string
	// Readers are the members the secret's policy grants
	// roles/secretmanager.secretAccessor.
	Readers []string
}

// Secrets returns every secret, keyed by full name.
func (s *Server) Secrets() map[string]Secret {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]Secret{}
	for name, sec := range s.secrets {
		v := Secret{Labels: maps.Clone(sec.sec.Labels), Annotations: maps.Clone(sec.sec.Annotations)}
		for _, p := range sec.versions {
			v.Versions = append(v.Versions, string(p))
		}
		for _, b := range sec.policy.GetBindings() {
			if b.Role == "roles/secretmanager.secretAccessor" {
				v.Readers = append(v.Readers, b.Members...)
			}
		}
		out[name] = v
	}
	return out
}

type secretServer struct {
	secretmanagerpb.UnimplementedSecretManagerServiceServer
	s *Server
}

func (m *secretServer) CreateSecret(_ context.Context, req *secretmanagerpb.CreateSecretRequest) (*secretmanagerpb.Secret, error) {
	s := m.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if !strings.HasPrefix(req.Parent, "projects/") || strings.Count(req.Parent, "/") != 1 {
		return nil, status.Errorf(codes.InvalidArgument, "parent %q", req.Parent)
	}
	if !secretID.MatchString(req.SecretId) {
		return nil, status.Errorf(codes.InvalidArgument, "secret_id %q", req.SecretId)
	}
	if req.GetSecret().GetReplication() == nil {
		return nil, status.Error(codes.InvalidArgument, "secret.replication: required")
	}
	for k, v := range req.Secret.Labels {
		if !labelKey.MatchString(k) || !labelVal.MatchString(v) {
			return nil, status.Errorf(codes.InvalidArgument, "label %q=%q", k, v)
		}
	}
	name := req.Parent + "/secrets/" + req.SecretId
	if s.secrets[name] != nil {
		return nil, status.Errorf(codes.AlreadyExists, "secret %s already exists", name)
	}
	x := proto.Clone(req.Secret).(*secretmanagerpb.Secret)
	x.Name, x.CreateTime = name, timestamppb.Now()
	s.secrets[name] = &secret{sec: x}
	return proto.Clone(x).(*secretmanagerpb.Secret), nil
}

func (m *secretServer) GetSecret(_ context.Context, req *secretmanagerpb.GetSecretRequest) (*secretmanagerpb.Secret, error) {
	s := m.s
	s.mu.Lock()
	defer s.mu.Unlock()
	sec := s.secrets[req.Name]
	if sec == nil {
		return nil, status.Errorf(codes.NotFound, "secret %s not found", req.Name)
	}
	return proto.Clone(sec.sec).(*secretmanagerpb.Secret), nil
}

func (m *secretServer) UpdateSecret(_ context.Context, req *secretmanagerpb.UpdateSecretRequest) (*secretmanagerpb.Secret, error) {
	s := m.s
	s.mu.Lock()
	defer s.mu.Unlock()
	sec := s.secrets[req.GetSecret().GetName()]
	if sec == nil {
		return nil, status.Errorf(codes.NotFound, "secret %s not found", req.GetSecret().GetName())
	}
	for _, p := range req.GetUpdateMask().GetPaths() {
		switch p {
		case "annotations":
			sec.sec.Annotations = maps.Clone(req.Secret.Annotations)
		case "labels":
			sec.sec.Labels = maps.Clone(req.Secret.Labels)
		default:
			return nil, status.Errorf(codes.InvalidArgument, "update_mask: fakegcp does not update %q", p)
		}
	}
	if len(req.GetUpdateMask().GetPaths()) == 0 {
		return nil, status.Error(codes.InvalidArgument, "update_mask: required")
	}
	return proto.Clone(sec.sec).(*secretmanagerpb.Secret), nil
}

func (m *secretServer) DeleteSecret(_ context.Context, req *secretmanagerpb.DeleteSecretRequest) (*emptypb.Empty, error) {
	s := m.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.secrets[req.Name] == nil {
		return nil, status.Errorf(codes.NotFound, "secret %s not found", req.Name)
	}
	delete(s.secrets, req.Name)
	return &emptypb.Empty{}, nil
}

// ListSecrets pages and filters as the API does, for filters made of
// labels.KEY=VALUE terms joined by AND (the only ones the fake knows).
func (m *secretServer) ListSecrets(_ context.Context, req *secretmanagerpb.ListSecretsRequest) (*secretmanagerpb.ListSecretsResponse, error) {
	s := m.s
	s.mu.Lock()
	defer s.mu.Unlock()
	want := map[string]string{}
	if req.Filter != "" {
		for term := range strings.SplitSeq(req.Filter, " AND ") {
			k, v, ok := strings.Cut(strings.TrimSpace(term), "=")
			if !ok || !strings.HasPrefix(k, "labels.") {
				return nil, status.Errorf(codes.InvalidArgument, "fakegcp: filter term %q is not labels.KEY=VALUE", term)
			}
			want[strings.TrimPrefix(k, "labels.")] = strings.Trim(v, `"`)
		}
	}
	var all []*secretmanagerpb.Secret
	for _, name := range slices.Sorted(maps.Keys(s.secrets)) {
		sec := s.secrets[name]
		if !strings.HasPrefix(name, req.Parent+"/secrets/") {
			continue
		}
		match := true
		for k, v := range want {
			match = match && sec.sec.Labels[k] == v
		}
		if match {
			all = append(all, proto.Clone(sec.sec).(*secretmanagerpb.Secret))
		}
	}
	items, next, err := page(all, func(x *secretmanagerpb.Secret) string { return x.Name }, req.PageToken, req.PageSize, s.pageSize)
	if err != nil {
		return nil, err
	}
	return &secretmanagerpb.ListSecretsResponse{Secrets: items, NextPageToken: next, TotalSize: int32(len(all))}, nil
}

func (m *secretServer) SetIamPolicy(_ context.Context, req *iampb.SetIamPolicyRequest) (*iampb.Policy, error) {
	s := m.s
	s.mu.Lock()
	defer s.mu.Unlock()
	sec := s.secrets[req.Resource]
	if sec == nil {
		return nil, status.Errorf(codes.NotFound, "secret %s not found", req.Resource)
	}
	for _, b := range req.GetPolicy().GetBindings() {
		for _, m := range b.Members {
			if !strings.HasPrefix(m, "serviceAccount:") && !strings.HasPrefix(m, "user:") && !strings.HasPrefix(m, "group:") {
				return nil, status.Errorf(codes.InvalidArgument, "member %q", m)
			}
		}
	}
	sec.policy = proto.Clone(req.Policy).(*iampb.Policy)
	return proto.Clone(sec.policy).(*iampb.Policy), nil
}

func (m *secretServer) AddSecretVersion(_ context.Context, req *secretmanagerpb.AddSecretVersionRequest) (*secretmanagerpb.SecretVersion, error) {
	s := m.s
	s.mu.Lock()
	defer s.mu.Unlock()
	sec := s.secrets[req.Parent]
	if sec == nil {
		return nil, status.Errorf(codes.NotFound, "secret %s not found", req.Parent)
	}
	sec.versions = append(sec.versions, slices.Clone(req.GetPayload().GetData()))
	return &secretmanagerpb.SecretVersion{
		Name:       fmt.Sprintf("%s/versions/%d", req.Parent, len(sec.versions)),
		CreateTime: timestamppb.Now(), State: secretmanagerpb.SecretVersion_ENABLED,
	}, nil
}
