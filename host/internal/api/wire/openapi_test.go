package wire_test

import (
	"encoding/json"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/alphaswarm/controller/core"
	"github.com/alphaswarm/controller/host/internal/api/wire"
	"github.com/alphaswarm/controller/sdk"
)

// openAPIFile is the API's document, which package api serves.
const openAPIFile = "../openapi.json"

// documented pairs each document the API sends or takes with the schemas
// of components/schemas that describe it (a request type may stand for
// several), and says whether it is a request: in an answer, a property
// the schema requires must be a field that is always encoded.
var documented = []struct {
	value   any
	schemas []string
	request bool
}{
	{wire.Problem{}, []string{"Problem"}, false},
	{wire.Diagnostic{}, []string{"Diagnostic"}, false},
	{wire.TopologyRequest{}, []string{"TopologyRequest"}, true},
	{wire.PlanResult{}, []string{"PlanResult"}, false},
	{wire.ApplyResult{}, []string{"ApplyResult"}, false},
	{wire.QueuedJob{}, []string{"QueuedJob"}, false},
	{wire.DeploymentPlan{}, []string{"DeploymentPlan"}, false},
	{wire.Deployment{}, []string{"Deployment"}, false},
	{wire.DeploymentList{}, []string{"DeploymentList"}, false},
	{wire.DeploymentDetail{}, []string{"DeploymentDetail"}, false},
	{wire.Revision{}, []string{"Revision"}, false},
	{wire.OperationRequest{}, []string{"DestroyRequest", "ServiceOperationRequest", "ScaleRequest"}, true},
	{wire.OperationAccepted{}, []string{"OperationAccepted"}, false},
	{wire.RollbackRequest{}, []string{"RollbackRequest"}, true},
	{wire.RollbackAccepted{}, []string{"RollbackAccepted"}, false},
	{wire.Job{}, []string{"Job"}, false},
	{wire.LogLine{}, []string{"LogLine"}, false},
	{wire.MetricsResponse{}, []string{"MetricsResponse"}, false},
	{wire.NodesResponse{}, []string{"NodesResponse"}, false},
	{wire.Backend{}, []string{"Backend"}, false},
	{wire.BackendList{}, []string{"BackendList"}, false},
	{wire.AuditEntry{}, []string{"AuditEntry"}, false},
	{wire.AuditList{}, []string{"AuditList"}, false},
	{wire.ExecControl{}, []string{"ExecControl"}, true}, // both ways; each type sets its own fields
	// The shared vocabulary the documents above carry.
	{core.DeploymentRef{}, []string{"DeploymentRef"}, false},
	{core.DeploymentSpec{}, []string{"DeploymentSpec"}, false},
	{core.ServiceSpec{}, []string{"ServiceSpec"}, false},
	{core.SecretRef{}, []string{"SecretRef"}, false},
	{core.Port{}, []string{"Port"}, false},
	{core.Resources{}, []string{"Resources"}, false},
	{core.HealthCheck{}, []string{"HealthCheck"}, false},
	{core.VolumeMount{}, []string{"VolumeMount"}, false},
	{core.DeploymentStatus{}, []string{"DeploymentStatus"}, false},
	{core.ServiceStatus{}, []string{"ServiceStatus"}, false},
	{core.ReplicaStatus{}, []string{"ReplicaStatus"}, false},
	{core.Event{}, []string{"Event"}, false},
	{core.MetricPoint{}, []string{"MetricPoint"}, false},
	{core.NodeHealth{}, []string{"NodeHealth"}, false},
	{sdk.ServiceChange{}, []string{"ServiceChange"}, false},
	{sdk.FieldChange{}, []string{"FieldChange"}, false},
	{sdk.CompatibilityNote{}, []string{"CompatibilityNote"}, false},
}

// schema is a components/schemas entry, as far as this test reads it.
type schema struct {
	Ref        string                     `json:"$ref"`
	AllOf      []schema                   `json:"allOf"`
	Required   []string                   `json:"required"`
	Properties map[string]json.RawMessage `json:"properties"`
}

// properties are a schema's properties and required ones, through allOf
// and $ref.
func properties(t *testing.T, schemas map[string]schema, s schema) (props, required []string) {
	t.Helper()
	if s.Ref != "" {
		name, ok := strings.CutPrefix(s.Ref, "#/components/schemas/")
		target, found := schemas[name]
		if !ok || !found {
			t.Fatalf("$ref %q names no schema", s.Ref)
		}
		return properties(t, schemas, target)
	}
	for _, part := range s.AllOf {
		p, r := properties(t, schemas, part)
		props, required = append(props, p...), append(required, r...)
	}
	for name := range s.Properties {
		props = append(props, name)
	}
	return props, append(required, s.Required...)
}

// field is a JSON member of a Go type.
type field struct {
	name   string
	always bool // encoded even when zero: no omitempty or omitzero
}

// jsonFields lists the members encoding/json writes for t, with embedded
// structs' members in place.
func jsonFields(t reflect.Type) []field {
	var out []field
	for f := range t.Fields() {
		tag := f.Tag.Get("json")
		if tag == "-" || !f.IsExported() && !f.Anonymous {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			out = append(out, jsonFields(f.Type)...)
			continue
		}
		if name == "" {
			name = f.Name
		}
		omit := slices.ContainsFunc(strings.Split(opts, ","), func(o string) bool { return o == "omitempty" || o == "omitzero" })
		out = append(out, field{name: name, always: !omit})
	}
	return out
}

// TestWireMatchesOpenAPI checks each document's JSON members against the
// OpenAPI schemas that describe it, both ways, so that a field added on
// one side only is caught.
func TestWireMatchesOpenAPI(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(openAPIFile)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Components struct {
			Schemas map[string]schema `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("decode %s: %v", openAPIFile, err)
	}
	schemas := doc.Components.Schemas
	for _, d := range documented {
		typ := reflect.TypeOf(d.value)
		t.Run(typ.String(), func(t *testing.T) {
			var props, required []string
			for _, name := range d.schemas {
				s, ok := schemas[name]
				if !ok {
					t.Fatalf("%s has no schema %s", openAPIFile, name)
				}
				p, r := properties(t, schemas, s)
				props, required = append(props, p...), append(required, r...)
			}
			fields := jsonFields(typ)
			var names []string
			for _, f := range fields {
				names = append(names, f.name)
				if !slices.Contains(props, f.name) {
					t.Errorf("%s encodes %q, which schema %s does not document", typ, f.name, strings.Join(d.schemas, "/"))
				}
				if !d.request && slices.Contains(required, f.name) && !f.always {
					t.Errorf("%s omits %q when empty, which schema %s requires", typ, f.name, strings.Join(d.schemas, "/"))
				}
			}
			for _, p := range props {
				if !slices.Contains(names, p) {
					t.Errorf("schema %s documents %q, which %s does not have", strings.Join(d.schemas, "/"), p, typ)
				}
			}
		})
	}
}
