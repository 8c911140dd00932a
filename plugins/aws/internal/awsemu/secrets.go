package awsemu

import (
	"crypto/rand"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

type secret struct {
	arn, name, value string
	versions         map[string]string // ClientRequestToken -> value
	tags             map[string]string
	description      string
}

type smState struct {
	secrets map[string]*secret
}

// smTag is Secrets Manager's tag shape (PascalCase, unlike ECS's).
type smTag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

func (m *smState) find(id string) *secret {
	for _, s := range m.secrets {
		if s.name == id || s.arn == id {
			return s
		}
	}
	return nil
}

func (m *smState) handle(srv *Server, op string, body []byte) (any, *apiError) {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	var in struct {
		Name                       string  `json:"Name"`
		SecretId                   string  `json:"SecretId"`
		SecretString               *string `json:"SecretString"`
		ClientRequestToken         string  `json:"ClientRequestToken"`
		Description                string  `json:"Description"`
		Tags                       []smTag `json:"Tags"`
		ForceDeleteWithoutRecovery bool    `json:"ForceDeleteWithoutRecovery"`
		Filters                    []struct {
			Key    string   `json:"Key"`
			Values []string `json:"Values"`
		} `json:"Filters"`
		NextToken  string `json:"NextToken"`
		MaxResults int    `json:"MaxResults"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.ClientRequestToken != "" && (len(in.ClientRequestToken) < 32 || len(in.ClientRequestToken) > 64) {
		return nil, errorf(400, "InvalidParameterException", "ClientRequestToken must be 32 to 64 characters.")
	}
	switch op {
	case "CreateSecret":
		if in.Name == "" || len(in.Name) > 512 || strings.Trim(in.Name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/_+=.@-") != "" {
			return nil, errorf(400, "ValidationException", "Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!")
		}
		if m.find(in.Name) != nil {
			return nil, errorf(400, "ResourceExistsException", "The operation failed because the secret %s already exists.", in.Name)
		}
		if in.SecretString == nil {
			return nil, errorf(400, "InvalidRequestException", "You must provide either SecretString or SecretBinary.")
		}
		s := &secret{arn: fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:%s-%s", srv.opts.Region, AccountID, in.Name, rand.Text()[:6]),
			name: in.Name, value: *in.SecretString, versions: map[string]string{}, tags: map[string]string{}, description: in.Description}
		for _, t := range in.Tags {
			if len(t.Key) > 128 || len(t.Value) > 256 || strings.Trim(t.Key+t.Value, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 _.:/=+-@") != "" {
				return nil, errorf(400, "ValidationException", "invalid tag %q", t.Key)
			}
			s.tags[t.Key] = t.Value
		}
		version := in.ClientRequestToken
		if version == "" {
			version = rand.Text()
		}
		s.versions[version] = *in.SecretString
		m.secrets[in.Name] = s
		return map[string]any{"ARN": s.arn, "Name": s.name, "VersionId": version}, nil
	case "PutSecretValue":
		s := m.find(in.SecretId)
		if s == nil {
			return nil, errorf(400, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
		}
		if in.SecretString == nil {
			return nil, errorf(400, "InvalidRequestException", "You must provide either SecretString or SecretBinary.")
		}
		version := in.ClientRequestToken
		if version == "" {
			version = rand.Text()
		}
		if old, ok := s.versions[version]; ok && old != *in.SecretString {
			return nil, errorf(400, "ResourceExistsException", "You can't modify an existing version, you can only create a new version.")
		}
		s.versions[version], s.value = *in.SecretString, *in.SecretString
		return map[string]any{"ARN": s.arn, "Name": s.name, "VersionId": version}, nil
	case "DescribeSecret":
		s := m.find(in.SecretId)
		if s == nil {
			return nil, errorf(400, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
		}
		return m.describe(s), nil
	case "DeleteSecret":
		s := m.find(in.SecretId)
		if s == nil {
			return nil, errorf(400, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
		}
		delete(m.secrets, s.name)
		return map[string]any{"ARN": s.arn, "Name": s.name, "DeletionDate": epoch(time.Now())}, nil
	case "ListSecrets":
		var list []map[string]any
		for _, name := range slices.Sorted(maps.Keys(m.secrets)) {
			s := m.secrets[name]
			ok := true
			for _, f := range in.Filters {
				match := false
				for _, v := range f.Values {
					switch f.Key {
					case "name":
						match = match || strings.HasPrefix(s.name, v)
					case "tag-key":
						_, has := s.tags[v]
						match = match || has
					case "tag-value":
						for _, tv := range s.tags {
							match = match || tv == v
						}
					default:
						return nil, errorf(400, "InvalidParameterException", "unsupported filter key %q", f.Key)
					}
				}
				ok = ok && match
			}
			if ok {
				list = append(list, m.describe(s))
			}
		}
		pg, next, err := page(list, in.NextToken, in.MaxResults, srv.opts.PageSize)
		if err != nil {
			return nil, err
		}
		return map[string]any{"SecretList": nonNil(pg), "NextToken": nilIfEmpty(next)}, nil
	}
	return nil, errorf(400, "UnknownOperationException", "the emulator does not implement secretsmanager.%s", op)
}

func (m *smState) describe(s *secret) map[string]any {
	tags := []smTag{}
	for _, k := range slices.Sorted(maps.Keys(s.tags)) {
		tags = append(tags, smTag{Key: k, Value: s.tags[k]})
	}
	return map[string]any{"ARN": s.arn, "Name": s.name, "Description": s.description, "Tags": tags}
}
