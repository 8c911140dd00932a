package topology

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/alphaswarm/controller/core"
)

// Topology is a loaded directory of topology files.
type Topology struct {
	Dir         string
	Files       map[string]*hcl.File // by file name, for showing source snippets
	Backends    []*Backend
	Deployments []*Deployment
}

// Backend is one backend block: backend "<type>" "<name>" { ... }. Its body
// is decoded later, against the schema the plugin of that type declares.
type Backend struct {
	Type, Name string
	Body       hcl.Body
	DeclRange  hcl.Range
	ctx        *hcl.EvalContext
}

// ID is "<type>.<name>", as a deployment refers to it.
func (b *Backend) ID() string { return b.Type + "." + b.Name }

// Deployment is one deployment block, decoded.
type Deployment struct {
	Spec      core.DeploymentSpec
	Backend   *Backend
	DeclRange hcl.Range
	ranges    map[string]hcl.Range
}

// Range returns the source range of the field at path, in the path grammar
// of core.FieldError and sdk.Diagnostic ("service.api.port.http.host"): the
// longest prefix of path that the deployment has a range for.
func (d *Deployment) Range(path string) hcl.Range {
	for p := path; p != ""; {
		if r, ok := d.ranges[p]; ok {
			return r
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			break
		}
		p = p[:i]
	}
	return d.DeclRange
}

var rootSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{
	{Type: "variable", LabelNames: []string{"name"}},
	{Type: "locals"},
	{Type: "backend", LabelNames: []string{"type", "name"}},
	{Type: "deployment", LabelNames: []string{"name"}},
}}

// MaxFileBytes bounds one topology file.
const MaxFileBytes = 4 << 20

// Load reads every .hcl file of dir and decodes it. The diagnostics say
// what is wrong and where; the topology is usable only without errors.
func Load(dir string, vals Values) (*Topology, hcl.Diagnostics) {
	parser, b := hclparse.NewParser(), &budget{}
	files, diags := parseDir(parser, dir, b)
	return load(dir, parser, files, diags, vals, b)
}

// MaxSources bounds how many files LoadSources takes.
const MaxSources = 256

// LoadSources decodes topology files given as name -> content, as the API
// receives them; names are plain file names ending in .hcl. dir is only
// used to name the topology in messages.
func LoadSources(dir string, sources map[string][]byte, vals Values) (*Topology, hcl.Diagnostics) {
	parser, b := hclparse.NewParser(), &budget{}
	files, diags := parseSources(parser, sources, b)
	return load(dir, parser, files, diags, vals, b)
}

// parse checks src against the limits, then parses it.
func parse(parser *hclparse.Parser, src []byte, filename string, b *budget) (*hcl.File, hcl.Diagnostics) {
	if diags := b.scanConfig(src, filename); diags.HasErrors() {
		return nil, diags
	}
	f, diags := parser.ParseHCL(src, filename)
	if f != nil && !diags.HasErrors() {
		diags = append(diags, checkForNesting(f)...)
	}
	return f, diags
}

func parseSources(parser *hclparse.Parser, sources map[string][]byte, b *budget) ([]*hcl.File, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	if len(sources) > MaxSources {
		return nil, diags.Append(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Too many topology files",
			Detail: fmt.Sprintf("%d files were sent; at most %d are accepted.", len(sources), MaxSources)})
	}
	names := slices.Sorted(maps.Keys(sources))
	var files []*hcl.File
	for _, name := range names {
		src := sources[name]
		switch {
		case !validSourceName(name):
			diags = diags.Append(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid topology file name",
				Detail: fmt.Sprintf("%q is not a plain file name ending in .hcl.", name)})
			continue
		case len(src) > MaxFileBytes:
			diags = diags.Append(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Topology file too large",
				Detail: fmt.Sprintf("%s is %d bytes; a topology file may have at most %d.", name, len(src), MaxFileBytes)})
			continue
		}
		f, d := parse(parser, src, name, b)
		diags = append(diags, d...)
		if f != nil {
			files = append(files, f)
		}
	}
	if len(files) == 0 && !diags.HasErrors() {
		diags = diags.Append(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "No topology files", Detail: "No .hcl files were given."})
	}
	return files, diags
}

func validSourceName(name string) bool {
	return strings.HasSuffix(name, ".hcl") && len(name) <= 255 && !strings.ContainsAny(name, "/\\\x00") &&
		name != ".hcl" && !strings.HasPrefix(name, ".")
}

func load(dir string, parser *hclparse.Parser, files []*hcl.File, diags hcl.Diagnostics, vals Values, b *budget) (*Topology, hcl.Diagnostics) {
	t := &Topology{Dir: dir, Files: parser.Files()}
	if diags.HasErrors() {
		return t, diags
	}
	var blocks hcl.Blocks
	for _, f := range files {
		if body, ok := f.Body.(*hclsyntax.Body); ok {
			rewriteBody(body)
		}
		content, d := f.Body.Content(rootSchema)
		diags = append(diags, d...)
		if content != nil {
			blocks = append(blocks, content.Blocks...)
		}
	}
	l := &loader{t: t, vars: map[string]*variable{}, seen: map[string]hcl.Range{}}
	diags = append(diags, l.declare(blocks)...)
	values, d := assign(l.vars, vals, parser, b)
	diags = append(diags, d...)
	diags = append(diags, checkValidations(l.vars, values, &b.eval)...)
	ctx := &hcl.EvalContext{Variables: map[string]cty.Value{"var": cty.ObjectVal(values)}, Functions: functions(&b.eval)}
	diags = append(diags, l.evalLocals(ctx, vals)...)
	if stop := vals.stopped(); stop != nil {
		return t, append(diags, stop...)
	}
	ctx.Variables["backend"] = l.backendObjects()
	for _, b := range t.Backends {
		b.ctx = ctx
	}
	for _, b := range l.deployments {
		if stop := vals.stopped(); stop != nil {
			return t, append(diags, stop...)
		}
		dep, d := decodeDeployment(b, ctx, l.backendsByID())
		diags = append(diags, d...)
		if dep != nil {
			t.Deployments = append(t.Deployments, dep)
		}
	}
	return t, diags
}

// parseDir parses the .hcl files of dir, in name order.
func parseDir(parser *hclparse.Parser, dir string, b *budget) ([]*hcl.File, hcl.Diagnostics) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read the topology directory", Detail: err.Error() + "."}}
	}
	var files []*hcl.File
	var diags hcl.Diagnostics
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".hcl") {
			continue
		}
		path := filepath.Join(dir, e.Name())
		if info, err := e.Info(); err == nil && info.Size() > MaxFileBytes {
			diags = diags.Append(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Topology file too large",
				Detail: fmt.Sprintf("%s is %d bytes; a topology file may have at most %d.", path, info.Size(), MaxFileBytes)})
			continue
		}
		f, d := parseFile(parser, path, b)
		diags = append(diags, d...)
		if f != nil {
			files = append(files, f)
		}
	}
	if len(files) == 0 && !diags.HasErrors() {
		diags = diags.Append(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "No topology files",
			Detail: fmt.Sprintf("%s has no .hcl files.", dir)})
	}
	return files, diags
}

// parseFile reads and parses the file at path, checking it against the
// limits first.
func parseFile(parser *hclparse.Parser, path string, b *budget) (*hcl.File, hcl.Diagnostics) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read a topology file", Detail: err.Error() + "."}}
	}
	return parse(parser, src, path, b)
}

// loader carries the declarations while a topology loads.
type loader struct {
	t           *Topology
	vars        map[string]*variable
	locals      hcl.Attributes
	deployments []*hcl.Block
	seen        map[string]hcl.Range // "kind name" -> where first declared
}

// declare collects every declaration, reporting duplicates.
func (l *loader) declare(blocks hcl.Blocks) hcl.Diagnostics {
	var diags hcl.Diagnostics
	l.locals = hcl.Attributes{}
	for _, b := range blocks {
		switch b.Type {
		case "variable":
			if !l.unique(&diags, "variable", b.Labels[0], b.DefRange) {
				continue
			}
			v, d := decodeVariable(b)
			diags = append(diags, d...)
			l.vars[v.name] = v
		case "locals":
			attrs, d := b.Body.JustAttributes()
			diags = append(diags, d...)
			for name, a := range attrs {
				if l.unique(&diags, "local value", name, a.NameRange) {
					l.locals[name] = a
				}
			}
		case "backend":
			if l.unique(&diags, "backend", b.Labels[0]+"."+b.Labels[1], b.DefRange) {
				l.t.Backends = append(l.t.Backends, &Backend{Type: b.Labels[0], Name: b.Labels[1], Body: b.Body, DeclRange: b.DefRange})
			}
		case "deployment":
			if l.unique(&diags, "deployment", b.Labels[0], b.DefRange) {
				l.deployments = append(l.deployments, b)
			}
		}
	}
	return diags
}

func (l *loader) unique(diags *hcl.Diagnostics, kind, name string, rng hcl.Range) bool {
	key := kind + " " + name
	if first, dup := l.seen[key]; dup {
		*diags = diags.Append(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Duplicate " + kind,
			Detail: fmt.Sprintf("A %s named %q was already declared at %s. Names must be unique across the directory.", kind, name, first), Subject: rng.Ptr()})
		return false
	}
	l.seen[key] = rng
	return true
}

// evalLocals evaluates the locals in dependency order, so that one local
// may use another; a cycle is reported on each local in it. Each local is
// evaluated once, with only the locals it refers to in its context, so the
// work is linear in the number of locals and references.
func (l *loader) evalLocals(ctx *hcl.EvalContext, vals Values) hcl.Diagnostics {
	var diags hcl.Diagnostics
	values := make(map[string]cty.Value, len(l.locals))
	deps, users := l.localGraph()
	waiting := make(map[string]int, len(l.locals))
	var ready []string
	for _, name := range sortedKeys(l.locals) {
		if waiting[name] = len(deps[name]); waiting[name] == 0 {
			ready = append(ready, name)
		}
	}
	for len(ready) > 0 && vals.stopped() == nil {
		name := ready[0]
		ready = ready[1:]
		used := make(map[string]cty.Value, len(deps[name]))
		for _, dep := range deps[name] {
			used[dep] = values[dep]
		}
		child := ctx.NewChild()
		child.Variables = map[string]cty.Value{"local": cty.ObjectVal(used)}
		v, d := checkedValue(l.locals[name].Expr, child)
		diags = append(diags, d...)
		if d.HasErrors() {
			v = cty.DynamicVal
		}
		values[name] = v
		for _, user := range users[name] {
			if waiting[user]--; waiting[user] == 0 {
				ready = append(ready, user)
			}
		}
	}
	if stop := vals.stopped(); stop != nil {
		ctx.Variables["local"] = cty.ObjectVal(values)
		return append(diags, stop...)
	}
	var cycle []string
	for _, name := range sortedKeys(l.locals) {
		if _, done := values[name]; !done {
			cycle = append(cycle, name)
		}
	}
	for _, name := range cycle {
		diags = diags.Append(&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cycle in local values",
			Detail: fmt.Sprintf("local.%s depends on itself through %s.", name, strings.Join(cycle, ", ")), Subject: l.locals[name].Expr.Range().Ptr()})
		values[name] = cty.DynamicVal
	}
	ctx.Variables["local"] = cty.ObjectVal(values)
	return diags
}

// localGraph returns, for each local, the declared locals it refers to
// (each once, in order), and the locals that refer to it. References to
// locals that do not exist are left for evaluation to report.
func (l *loader) localGraph() (deps, users map[string][]string) {
	deps, users = map[string][]string{}, map[string][]string{}
	for _, name := range sortedKeys(l.locals) {
		seen := map[string]bool{}
		for _, tr := range l.locals[name].Expr.Variables() {
			if tr.RootName() != "local" || len(tr) < 2 {
				continue
			}
			ref, ok := tr[1].(hcl.TraverseAttr)
			if _, declared := l.locals[ref.Name]; !ok || !declared || seen[ref.Name] {
				continue
			}
			seen[ref.Name] = true
			deps[name] = append(deps[name], ref.Name)
			users[ref.Name] = append(users[ref.Name], name)
		}
	}
	return deps, users
}

// backendObjects is the value of "backend" in expressions:
// backend.<type>.<name> is an object naming the block.
func (l *loader) backendObjects() cty.Value {
	byType := map[string]map[string]cty.Value{}
	for _, b := range l.t.Backends {
		if byType[b.Type] == nil {
			byType[b.Type] = map[string]cty.Value{}
		}
		byType[b.Type][b.Name] = cty.ObjectVal(map[string]cty.Value{
			"type": cty.StringVal(b.Type), "name": cty.StringVal(b.Name), "id": cty.StringVal(b.ID()),
		})
	}
	obj := map[string]cty.Value{}
	for t, names := range byType {
		obj[t] = cty.ObjectVal(names)
	}
	return cty.ObjectVal(obj)
}

func (l *loader) backendsByID() map[string]*Backend {
	m := map[string]*Backend{}
	for _, b := range l.t.Backends {
		m[b.ID()] = b
	}
	return m
}

// Deployment returns the deployment called name, or nil.
func (t *Topology) Deployment(name string) *Deployment {
	i := slices.IndexFunc(t.Deployments, func(d *Deployment) bool { return d.Spec.Name == name })
	if i < 0 {
		return nil
	}
	return t.Deployments[i]
}
