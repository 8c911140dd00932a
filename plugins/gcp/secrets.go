package gcp

import (
	"context"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strings"

	"cloud.google.com/go/iam/apiv1/iampb"
	"cloud.google.com/go/secretmanager/apiv1/secretmanagerpb"
	"google.golang.org/api/iterator"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/sdk"
)

// valueHash is the keyed hash of one secret's value, which the secret's
// annotations keep: it tells apply whether the newest version holds the
// value without reading it back.
func valueHash(salt sdk.Salt, ref, value string) string {
	svc := &core.ServiceSpec{SecretEnv: []core.SecretRef{{Ref: ref}}}
	return hex.EncodeToString(salt.HashSecrets(svc, sdk.SecretValues{ref: value}, sdk.SecretsByRef))[:32]
}

// secretRefs lists the secret references of the deployment's services.
func secretRefs(spec *core.DeploymentSpec) []string {
	refs := map[string]bool{}
	for _, s := range spec.Services {
		for _, r := range s.SecretEnv {
			refs[r.Ref] = true
		}
	}
	return slices.Sorted(maps.Keys(refs))
}

// ensureSecrets makes a secret for each reference of the deployment whose
// newest version holds the value the host resolved, and returns the
// version each one's env pins. An unchanged value adds no version.
// accessor, the deployment's runtime account ("" the default compute
// account, which the plugin cannot name), alone may read them.
func (b *Backend) ensureSecrets(ctx context.Context, t target, spec *core.DeploymentSpec, values sdk.SecretValues, salt sdk.Salt, accessor string, report *sdk.Progress) (map[string]string, error) {
	versions := map[string]string{}
	for _, ref := range secretRefs(spec) {
		value, ok := values[ref]
		if !ok {
			return nil, fmt.Errorf("store secret %q: the host resolved no value for it", ref)
		}
		v, err := b.ensureSecret(ctx, t, ref, value, salt, accessor, report)
		if err != nil {
			return nil, err
		}
		versions[ref] = v
	}
	return versions, nil
}

func (b *Backend) ensureSecret(ctx context.Context, t target, ref, value string, salt sdk.Salt, accessor string, report *sdk.Progress) (string, error) {
	name := t.secretName(ref)
	sec, err := b.secrets.GetSecret(ctx, &secretmanagerpb.GetSecretRequest{Name: name})
	switch {
	case isNotFound(err):
		labels := t.labels("")
		sec, err = b.secrets.CreateSecret(ctx, &secretmanagerpb.CreateSecretRequest{
			Parent: t.secret, SecretId: t.secretID(ref),
			Secret: &secretmanagerpb.Secret{
				Labels:      labels,
				Replication: &secretmanagerpb.Replication{Replication: &secretmanagerpb.Replication_Automatic_{Automatic: &secretmanagerpb.Replication_Automatic{}}},
			},
		})
		if err != nil {
			return "", b.apiError(ctx, fmt.Sprintf("create the Secret Manager secret of %q", ref), err)
		}
		report.Infof("", "", "created secret %s for %q", short(name), ref)
	case err != nil:
		return "", b.apiError(ctx, fmt.Sprintf("read the Secret Manager secret of %q", ref), err)
	case !t.owns(sec.Labels):
		return "", fmt.Errorf("store secret %q: secret %s exists and is not this deployment's (it lacks its labels)", ref, short(name))
	}
	h := valueHash(salt, ref, value)
	version := sec.Annotations[annotationVersion]
	if sec.Annotations[annotationValue] != h || version == "" {
		v, err := b.secrets.AddSecretVersion(ctx, &secretmanagerpb.AddSecretVersionRequest{
			Parent: name, Payload: &secretmanagerpb.SecretPayload{Data: []byte(value)},
		})
		if err != nil {
			return "", b.apiError(ctx, fmt.Sprintf("add a version to the Secret Manager secret of %q", ref), err)
		}
		version = short(v.Name)
		report.Infof("", "", "secret %s: version %s", short(name), version)
	}
	if accessor != "" && sec.Annotations[annotationAccessor] != accessor {
		// The services' identity reads the secret; the policy is the
		// secret's own, which apply made, so it is replaced whole.
		_, err := b.secrets.SetIamPolicy(ctx, &iampb.SetIamPolicyRequest{Resource: name, Policy: &iampb.Policy{
			Bindings: []*iampb.Binding{{Role: "roles/secretmanager.secretAccessor", Members: []string{"serviceAccount:" + accessor}}},
		}})
		if err != nil {
			return "", b.apiError(ctx, fmt.Sprintf("let %s read the Secret Manager secret of %q", accessor, ref), err)
		}
	}
	want := map[string]string{annotationValue: h, annotationVersion: version}
	if accessor != "" {
		want[annotationAccessor] = accessor
	}
	if !maps.Equal(want, sec.Annotations) {
		_, err = b.secrets.UpdateSecret(ctx, &secretmanagerpb.UpdateSecretRequest{
			Secret:     &secretmanagerpb.Secret{Name: name, Annotations: want},
			UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"annotations"}},
		})
		if err != nil {
			return "", b.apiError(ctx, fmt.Sprintf("annotate the Secret Manager secret of %q", ref), err)
		}
	}
	return version, nil
}

// listSecrets lists the deployment's secrets, by label.
func (b *Backend) listSecrets(ctx context.Context, t target) ([]*secretmanagerpb.Secret, error) {
	var out []*secretmanagerpb.Secret
	it := b.secrets.ListSecrets(ctx, &secretmanagerpb.ListSecretsRequest{Parent: t.secret, Filter: t.secretFilter()})
	for {
		s, err := it.Next()
		if err == iterator.Done {
			return out, nil
		}
		if err != nil {
			return nil, b.apiError(ctx, "list Secret Manager secrets", err)
		}
		if t.owns(s.Labels) && strings.HasPrefix(s.Name, t.secret+"/secrets/") {
			out = append(out, s)
		}
	}
}

// deleteSecrets deletes the deployment's secrets but those in keep (full
// names).
func (b *Backend) deleteSecrets(ctx context.Context, t target, keep map[string]bool) error {
	list, err := b.listSecrets(ctx, t)
	if err != nil {
		return err
	}
	for _, s := range list {
		if keep[s.Name] {
			continue
		}
		if err := b.secrets.DeleteSecret(ctx, &secretmanagerpb.DeleteSecretRequest{Name: s.Name}); err != nil && !isNotFound(err) {
			return b.apiError(ctx, "delete Secret Manager secret "+short(s.Name), err)
		}
	}
	return nil
}

// pruneVersions destroys, in each secret of versions, every version but
// the one the services pin (secret reference -> version number). Apply
// calls it once every service serves a ready revision that reads the
// pinned versions, so that a rotated value does not linger in Secret
// Manager: a failed rollout keeps the older versions, which the revision
// still serving reads.
//
// Destroyed rather than disabled: a disabled version keeps its value, and
// anyone who may enable versions can read it again. Nothing needs an old
// version back: every apply, a rollback's too, writes the value the host
// resolves now, and the older revisions that pinned one serve no traffic.
func (b *Backend) pruneVersions(ctx context.Context, t target, versions map[string]string, report *sdk.Progress) error {
	for _, ref := range slices.Sorted(maps.Keys(versions)) {
		name := t.secretName(ref)
		keep := name + "/versions/" + versions[ref]
		it := b.secrets.ListSecretVersions(ctx, &secretmanagerpb.ListSecretVersionsRequest{Parent: name})
		var old []string
		for {
			v, err := it.Next()
			if err == iterator.Done {
				break
			}
			if err != nil {
				return b.apiError(ctx, fmt.Sprintf("list the versions of the Secret Manager secret of %q", ref), err)
			}
			if v.Name != keep && v.State != secretmanagerpb.SecretVersion_DESTROYED {
				old = append(old, v.Name)
			}
		}
		for _, v := range old {
			_, err := b.secrets.DestroySecretVersion(ctx, &secretmanagerpb.DestroySecretVersionRequest{Name: v})
			if err != nil && !isNotFound(err) && status.Code(err) != codes.FailedPrecondition { // gone, or destroyed meanwhile
				return b.apiError(ctx, fmt.Sprintf("destroy version %s of the Secret Manager secret of %q", short(v), ref), err)
			}
			report.Infof("", "", "secret %s: destroyed version %s, now pinned to %s", short(name), short(v), versions[ref])
		}
	}
	return nil
}
