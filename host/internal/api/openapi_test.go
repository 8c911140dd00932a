package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/gorilla/mux"

	"github.com/alphaswarm/controller/core/auth"
	"github.com/alphaswarm/controller/host/internal/api"
)

// openAPIFile is the checked-in document, which the package embeds.
const openAPIFile = "openapi.json"

// The HTTP methods an OpenAPI path item may hold, as its keys.
var openAPIMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// openAPIPublicPaths need no token.
var openAPIPublicPaths = []string{"/healthz", "/readyz", "/metrics", "/v1/openapi.json"}

type oaParameter struct {
	Ref      string `json:"$ref"`
	Name     string `json:"name"`
	In       string `json:"in"`
	Required bool   `json:"required"`
}

type oaOperation struct {
	OperationID string                     `json:"operationId"`
	Summary     string                     `json:"summary"`
	Description string                     `json:"description"`
	Permission  string                     `json:"x-permission"`
	Security    *[]map[string][]string     `json:"security"`
	Parameters  []oaParameter              `json:"parameters"`
	Responses   map[string]json.RawMessage `json:"responses"`
}

// oaOp is one operation of the document with where it sits.
type oaOp struct {
	method, path string
	op           oaOperation
	pathParams   []oaParameter // the path item's own parameters
}

func (o oaOp) key() string { return o.method + " " + o.path }

type oaDocument struct {
	raw        []byte
	tree       any
	openAPI    string
	security   []map[string][]string
	parameters map[string]oaParameter
	schemes    map[string]json.RawMessage
	ops        []oaOp
}

// loadOpenAPI reads and decodes the checked-in document.
func loadOpenAPI(t *testing.T) *oaDocument {
	t.Helper()
	raw, err := os.ReadFile(openAPIFile)
	if err != nil {
		t.Fatal(err)
	}
	var top struct {
		OpenAPI    string                                `json:"openapi"`
		Security   []map[string][]string                 `json:"security"`
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Parameters      map[string]oaParameter     `json:"parameters"`
			SecuritySchemes map[string]json.RawMessage `json:"securitySchemes"`
		} `json:"components"`
	}
	if err := json.Unmarshal(raw, &top); err != nil {
		t.Fatalf("%s is not valid JSON: %v", openAPIFile, err)
	}
	doc := &oaDocument{raw: raw, openAPI: top.OpenAPI, security: top.Security,
		parameters: top.Components.Parameters, schemes: top.Components.SecuritySchemes}
	if err := json.Unmarshal(raw, &doc.tree); err != nil {
		t.Fatal(err)
	}
	for path, item := range top.Paths {
		var shared []oaParameter
		if p, ok := item["parameters"]; ok {
			if err := json.Unmarshal(p, &shared); err != nil {
				t.Fatalf("%s: parameters: %v", path, err)
			}
		}
		for _, m := range openAPIMethods {
			b, ok := item[m]
			if !ok {
				continue
			}
			var op oaOperation
			if err := json.Unmarshal(b, &op); err != nil {
				t.Fatalf("%s %s: %v", strings.ToUpper(m), path, err)
			}
			doc.ops = append(doc.ops, oaOp{method: strings.ToUpper(m), path: path, op: op, pathParams: shared})
		}
	}
	slices.SortFunc(doc.ops, func(a, b oaOp) int { return strings.Compare(a.key(), b.key()) })
	return doc
}

// resolve follows a parameter's $ref into components/parameters.
func (d *oaDocument) resolve(p oaParameter) (oaParameter, error) {
	if p.Ref == "" {
		return p, nil
	}
	name, ok := strings.CutPrefix(p.Ref, "#/components/parameters/")
	if !ok {
		return p, fmt.Errorf("parameter $ref %q does not point into #/components/parameters", p.Ref)
	}
	q, ok := d.parameters[name]
	if !ok {
		return p, fmt.Errorf("parameter $ref %q names no parameter", p.Ref)
	}
	return q, nil
}

// params are an operation's parameters, resolved, the operation's own
// overriding the path item's of the same name and location.
func (d *oaDocument) params(o oaOp) ([]oaParameter, error) {
	byKey := map[string]oaParameter{}
	var order []string
	for _, list := range [][]oaParameter{o.pathParams, o.op.Parameters} {
		for _, p := range list {
			q, err := d.resolve(p)
			if err != nil {
				return nil, err
			}
			k := q.In + ":" + q.Name
			if _, ok := byKey[k]; !ok {
				order = append(order, k)
			}
			byKey[k] = q
		}
	}
	out := make([]oaParameter, 0, len(order))
	for _, k := range order {
		out = append(out, byKey[k])
	}
	return out, nil
}

// openAPIRoutes walks the API's router and returns "METHOD /template" for every
// route that has methods.
func openAPIRoutes(t *testing.T) []string {
	t.Helper()
	r, ok := api.New(api.Config{}).Handler().(*mux.Router)
	if !ok {
		t.Fatalf("Handler() is not a *mux.Router")
	}
	var out []string
	err := r.Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		methods, err := route.GetMethods()
		if err != nil {
			return nil // a subrouter's prefix, not an endpoint
		}
		tmpl, err := route.GetPathTemplate()
		if err != nil {
			return err
		}
		for _, m := range methods {
			out = append(out, m+" "+tmpl)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

func TestOpenAPIMatchesRoutes(t *testing.T) {
	t.Parallel()
	routed := openAPIRoutes(t)
	doc := loadOpenAPI(t)
	var documented []string
	for _, o := range doc.ops {
		documented = append(documented, o.key())
	}
	if len(routed) == 0 {
		t.Fatal("the router has no routes with methods")
	}
	var undocumented, unrouted []string
	for _, r := range routed {
		if !slices.Contains(documented, r) {
			undocumented = append(undocumented, r)
		}
	}
	for _, d := range documented {
		if !slices.Contains(routed, d) {
			unrouted = append(unrouted, d)
		}
	}
	if len(undocumented) > 0 {
		t.Errorf("routes missing from %s (add them under paths):\n\t%s", openAPIFile, strings.Join(undocumented, "\n\t"))
	}
	if len(unrouted) > 0 {
		t.Errorf("operations in %s with no route in Handler() (remove them or register the route):\n\t%s", openAPIFile, strings.Join(unrouted, "\n\t"))
	}
}

func TestOpenAPIDocument(t *testing.T) {
	t.Parallel()
	doc := loadOpenAPI(t)
	if doc.openAPI != "3.1.0" {
		t.Errorf(`openapi is %q, want "3.1.0"`, doc.openAPI)
	}
	if _, ok := doc.schemes["bearerAuth"]; !ok {
		t.Errorf("components.securitySchemes has no bearerAuth")
	}
	if diff := cmp.Diff([]map[string][]string{{"bearerAuth": {}}}, doc.security); diff != "" {
		t.Errorf("global security is not bearerAuth (-want +got):\n%s", diff)
	}
	// Equal bytes after re-indenting: valid JSON, 2-space indented, one
	// trailing newline.
	var compact, indented bytes.Buffer
	if err := json.Compact(&compact, doc.raw); err != nil {
		t.Fatal(err)
	}
	if err := json.Indent(&indented, compact.Bytes(), "", "  "); err != nil {
		t.Fatal(err)
	}
	indented.WriteByte('\n')
	if !bytes.Equal(indented.Bytes(), doc.raw) {
		t.Errorf("%s is not indented with two spaces (as json.Indent with \"  \" writes it, plus a final newline):\n%s",
			openAPIFile, cmp.Diff(strings.Split(indented.String(), "\n"), strings.Split(string(doc.raw), "\n")))
	}
}

func TestOpenAPIOperations(t *testing.T) {
	t.Parallel()
	doc := loadOpenAPI(t)
	var perms []string
	for _, p := range auth.AllPermissions() {
		perms = append(perms, string(p))
	}
	ids := map[string]string{}
	placeholder := regexp.MustCompile(`\{([^{}]+)\}`)
	for _, o := range doc.ops {
		where := o.key()
		public := slices.Contains(openAPIPublicPaths, o.path)

		switch id := o.op.OperationID; {
		case id == "":
			t.Errorf("%s: no operationId", where)
		case ids[id] != "":
			t.Errorf("%s: operationId %q is also the one of %s", where, id, ids[id])
		default:
			ids[id] = where
		}
		if o.op.Summary == "" {
			t.Errorf("%s: no summary", where)
		}
		if len(o.op.Responses) == 0 {
			t.Errorf("%s: no responses", where)
		}

		switch {
		case public:
			if o.op.Security == nil || len(*o.op.Security) != 0 {
				t.Errorf("%s: a public route needs \"security\": [] to lift the global bearerAuth", where)
			}
			if o.op.Permission != "" {
				t.Errorf("%s: a public route needs no x-permission, has %q", where, o.op.Permission)
			}
		case strings.HasPrefix(o.path, "/v1/"):
			if o.op.Security != nil {
				t.Errorf("%s: a /v1 route keeps the global bearerAuth security, has its own %v", where, *o.op.Security)
			}
			if !slices.Contains(perms, o.op.Permission) {
				t.Errorf("%s: x-permission %q is not one of %v", where, o.op.Permission, perms)
			} else if !strings.Contains(o.op.Description, "`"+o.op.Permission+"`") {
				t.Errorf("%s: the description does not name the permission `%s`", where, o.op.Permission)
			}
		default:
			t.Errorf("%s: neither a public route nor under /v1", where)
		}

		params, err := doc.params(o)
		if err != nil {
			t.Errorf("%s: %v", where, err)
			continue
		}
		var inTemplate, declared []string
		for _, m := range placeholder.FindAllStringSubmatch(o.path, -1) {
			inTemplate = append(inTemplate, m[1])
		}
		for _, p := range params {
			if p.In != "path" {
				continue
			}
			declared = append(declared, p.Name)
			if !p.Required {
				t.Errorf("%s: path parameter %q must be required", where, p.Name)
			}
		}
		for _, name := range inTemplate {
			if !slices.Contains(declared, name) {
				t.Errorf("%s: path parameter {%s} is not declared in parameters", where, name)
			}
		}
		for _, name := range declared {
			if !slices.Contains(inTemplate, name) {
				t.Errorf("%s: declares path parameter %q that the path does not have", where, name)
			}
		}
	}
}

// TestOpenAPIRefs checks that every local $ref points at something.
func TestOpenAPIRefs(t *testing.T) {
	t.Parallel()
	doc := loadOpenAPI(t)
	var walk func(v any, at string)
	walk = func(v any, at string) {
		switch v := v.(type) {
		case map[string]any:
			if ref, ok := v["$ref"].(string); ok {
				if _, err := openAPIPointer(doc.tree, ref); err != nil {
					t.Errorf("%s: $ref %q: %v", at, ref, err)
				}
			}
			for k, c := range v {
				walk(c, at+"/"+k)
			}
		case []any:
			for i, c := range v {
				walk(c, fmt.Sprintf("%s/%d", at, i))
			}
		}
	}
	walk(doc.tree, "#")
}

// openAPIPointer resolves a local JSON pointer reference ("#/a/b").
func openAPIPointer(tree any, ref string) (any, error) {
	rest, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil, fmt.Errorf("not a local reference")
	}
	cur := tree
	for _, tok := range strings.Split(rest, "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%q is not inside an object", tok)
		}
		if cur, ok = m[tok]; !ok {
			return nil, fmt.Errorf("no %q", tok)
		}
	}
	return cur, nil
}

func TestOpenAPIServed(t *testing.T) {
	t.Parallel()
	want, err := os.ReadFile(openAPIFile)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.New(api.Config{}).Handler())
	t.Cleanup(srv.Close)
	resp, err := http.Get(srv.URL + "/v1/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /v1/openapi.json: %d %s", resp.StatusCode, got)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type is %q, want application/json", ct)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("the served document differs from %s (-file +served):\n%s", openAPIFile, cmp.Diff(string(want), string(got)))
	}
}
