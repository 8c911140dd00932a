package sdk

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var testSchema = Schema{
	Attributes: []Attribute{
		{Name: "address", Type: TypeString, Required: true},
		{Name: "timeout", Type: TypeString, Default: "30s", TenantSettable: true},
		{Name: "qps", Type: TypeNumber, Default: 5},
		{Name: "labels", Type: MapOf(TypeString)},
		{Name: "zones", Type: ListOf(TypeString)},
		{Name: "password", Type: TypeString, Sensitive: true},
	},
	Blocks: []Block{
		{Name: "tls", Nesting: NestingSingle, Schema: Schema{Attributes: []Attribute{
			{Name: "ca_file", Type: TypeString, Required: true},
			{Name: "insecure", Type: TypeBool, Default: false},
		}}},
		{Name: "endpoint", Nesting: NestingList, MaxItems: 2, Schema: Schema{Attributes: []Attribute{
			{Name: "url", Type: TypeString, Required: true},
		}}},
	},
}

func TestSchemaNormalize(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		in       string
		want     string // normalized JSON, when no error
		wantPath string // InvalidConfigError path, when an error
	}{
		{"defaults filled", `{"address":"x"}`, `{"address":"x","qps":5,"timeout":"30s"}`, ""},
		{"nested defaults", `{"address":"x","tls":{"ca_file":"ca.pem"}}`,
			`{"address":"x","qps":5,"timeout":"30s","tls":{"ca_file":"ca.pem","insecure":false}}`, ""},
		{"missing required", `{}`, "", "address"},
		{"unknown attribute", `{"address":"x","adress":"y"}`, "", "adress"},
		{"wrong type", `{"address":42}`, "", "address"},
		{"wrong list element", `{"address":"x","zones":["a",1]}`, "", "zones[1]"},
		{"wrong map value", `{"address":"x","labels":{"team":true}}`, "", "labels.team"},
		{"nested required", `{"address":"x","tls":{}}`, "", "tls.ca_file"},
		{"nested unknown", `{"address":"x","tls":{"ca_file":"a","cert":"b"}}`, "", "tls.cert"},
		{"list block item", `{"address":"x","endpoint":[{"url":"a"},{}]}`, "", "endpoint[1].url"},
		{"too many blocks", `{"address":"x","endpoint":[{"url":"a"},{"url":"b"},{"url":"c"}]}`, "", "endpoint"},
		{"not an object", `"x"`, "", ""},
		{"not json", `{`, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := testSchema.Normalize(json.RawMessage(tc.in))
			if tc.want != "" {
				if err != nil {
					t.Fatalf("Normalize(%s): %v", tc.in, err)
				}
				if diff := cmp.Diff(tc.want, string(got)); diff != "" {
					t.Errorf("Normalize(%s) (-want +got):\n%s", tc.in, diff)
				}
				return
			}
			var invalid *InvalidConfigError
			if !errors.As(err, &invalid) {
				t.Fatalf("Normalize(%s) = %s, %v; want an InvalidConfigError", tc.in, got, err)
			}
			if invalid.Path != tc.wantPath {
				t.Errorf("Normalize(%s) names %q, want %q (%v)", tc.in, invalid.Path, tc.wantPath, err)
			}
		})
	}
}

func TestSchemaCheck(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		schema Schema
		ok     bool
	}{
		{"valid", testSchema, true},
		{"bad name", Schema{Attributes: []Attribute{{Name: "Region", Type: TypeString}}}, false},
		{"duplicate", Schema{Attributes: []Attribute{{Name: "a", Type: TypeString}, {Name: "a", Type: TypeBool}}}, false},
		{"unknown type", Schema{Attributes: []Attribute{{Name: "a", Type: "duration"}}}, false},
		{"nested list type", Schema{Attributes: []Attribute{{Name: "a", Type: ListOf(MapOf(TypeNumber))}}}, true},
		{"default of wrong type", Schema{Attributes: []Attribute{{Name: "a", Type: TypeNumber, Default: "5"}}}, false},
		{"required with default", Schema{Attributes: []Attribute{{Name: "a", Type: TypeString, Required: true, Default: "x"}}}, false},
		{"bad nesting", Schema{Blocks: []Block{{Name: "b", Nesting: "set"}}}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if err := tc.schema.Check(); (err == nil) != tc.ok {
				t.Errorf("Check() = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestConfigureRequestDecode(t *testing.T) {
	t.Parallel()
	var cfg struct {
		Address string `json:"address"`
		QPS     int    `json:"qps"`
	}
	req := &ConfigureRequest{Config: json.RawMessage(`{"address":"a","qps":"fast"}`)}
	var invalid *InvalidConfigError
	if err := req.Decode(&cfg); !errors.As(err, &invalid) || invalid.Path != "qps" {
		t.Errorf("Decode with a string for an int: got %v, want InvalidConfigError at qps", err)
	}
	req.Config = json.RawMessage(`{"address":"a","extra":1}`)
	if err := req.Decode(&cfg); !errors.As(err, &invalid) {
		t.Errorf("Decode with a field the struct lacks: got %v, want InvalidConfigError", err)
	}
	if s := (ConfigureRequest{Config: json.RawMessage(`{"password":"hunter2"}`)}).String(); s == "" || strings.Contains(s, "hunter2") {
		t.Errorf("ConfigureRequest.String() leaks the config: %q", s)
	}
}
