package fakegcp

import (
	"context"
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"cloud.google.com/go/iam/apiv1/iampb"
	"cloud.google.com/go/secretmanager/apiv1/secretmanagerpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// secret is one Secret Manager secret and its versions.
type secret struct {
	sec      *secretmanagerpb.Secret
	versions []*version
	policy   *iampb.Policy
}

// version is one secret version: its payload, which destroying it wipes,
// and its state.
type version struct {
	payload []byte
	state   secretmanagerpb.SecretVersion_State
	created *timestamppb.Timestamp
	destroy *timestamppb.Timestamp
}

func (v *version) proto(secret string, n int) *secretmanagerpb.SecretVersion {
	return &secretmanagerpb.SecretVersion{
		Name: fmt.Sprintf("%s/versions/%d", secret, n), CreateTime: v.created, DestroyTime: v.destroy, State: v.state,
	}
}

var secretID = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,255}$`)

// Secret is a secret as the fake keeps it: its labels and annotations, and
// the payload and state of each version, oldest first (a destroyed
// version's payload is gone: "").
type Secret struct {
	Labels, Annotations map[string]string
	Versions            []string
	States              []secretmanagerpb.SecretVersion_State
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
		for _, x := range sec.versions {
			v.Versions = append(v.Versions, string(x.payload))
			v.States = append(v.States, x.state)
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
	v := &version{payload: slices.Clone(req.GetPayload().GetData()), state: secretmanagerpb.SecretVersion_ENABLED, created: timestamppb.Now()}
	sec.versions = append(sec.versions, v)
	return v.proto(req.Parent, len(sec.versions)), nil
}

// versionOf finds a version by its full name, under s.mu.
func (s *Server) versionOf(name string) (*version, int, error) {
	parent, n, ok := strings.Cut(name, "/versions/")
	sec := s.secrets[parent]
	if !ok || sec == nil {
		return nil, 0, status.Errorf(codes.NotFound, "secret version %s not found", name)
	}
	i, err := strconv.Atoi(n)
	if err != nil || i < 1 || i > len(sec.versions) {
		return nil, 0, status.Errorf(codes.NotFound, "secret version %s not found", name)
	}
	return sec.versions[i-1], i, nil
}

// ListSecretVersions pages the secret's versions, newest first, as the
// API does; the fake knows no filter.
func (m *secretServer) ListSecretVersions(_ context.Context, req *secretmanagerpb.ListSecretVersionsRequest) (*secretmanagerpb.ListSecretVersionsResponse, error) {
	s := m.s
	s.mu.Lock()
	defer s.mu.Unlock()
	sec := s.secrets[req.Parent]
	if sec == nil {
		return nil, status.Errorf(codes.NotFound, "secret %s not found", req.Parent)
	}
	if req.Filter != "" {
		return nil, status.Errorf(codes.InvalidArgument, "fakegcp: ListSecretVersions knows no filter, got %q", req.Filter)
	}
	var all []*secretmanagerpb.SecretVersion
	for i := len(sec.versions); i >= 1; i-- {
		all = append(all, sec.versions[i-1].proto(req.Parent, i))
	}
	// Tokens are keys that sort as the list does: newest first.
	key := func(v *secretmanagerpb.SecretVersion) string {
		n, _ := strconv.Atoi(v.Name[strings.LastIndex(v.Name, "/")+1:])
		return fmt.Sprintf("%020d", math.MaxInt64-n)
	}
	items, next, err := page(all, key, req.PageToken, req.PageSize, s.pageSize)
	if err != nil {
		return nil, err
	}
	return &secretmanagerpb.ListSecretVersionsResponse{Versions: items, NextPageToken: next, TotalSize: int32(len(all))}, nil
}

// DestroySecretVersion wipes a version's payload for good; a destroyed
// version cannot be destroyed again (FAILED_PRECONDITION, as the API).
func (m *secretServer) DestroySecretVersion(_ context.Context, req *secretmanagerpb.DestroySecretVersionRequest) (*secretmanagerpb.SecretVersion, error) {
	s := m.s
	s.mu.Lock()
	defer s.mu.Unlock()
	v, n, err := s.versionOf(req.Name)
	if err != nil {
		return nil, err
	}
	if v.state == secretmanagerpb.SecretVersion_DESTROYED {
		return nil, status.Errorf(codes.FailedPrecondition, "secret version %s is already destroyed", req.Name)
	}
	v.payload, v.state, v.destroy = nil, secretmanagerpb.SecretVersion_DESTROYED, timestamppb.Now()
	return v.proto(req.Name[:strings.Index(req.Name, "/versions/")], n), nil
}
