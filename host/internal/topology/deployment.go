package topology

import (
	"fmt"
	"sort"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/alphaswarm/controller/core"
)

var deploymentSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "tenant", Required: true}, {Name: "environment", Required: true}, {Name: "backend", Required: true}},
	Blocks:     []hcl.BlockHeaderSchema{{Type: "service", LabelNames: []string{"name"}}},
}

var serviceSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "image", Required: true}, {Name: "command"}, {Name: "args"}, {Name: "replicas"},
		{Name: "env"}, {Name: "secret_env"}, {Name: "depends_on"}, {Name: "labels"},
	},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "port", LabelNames: []string{"name"}}, {Type: "resources"}, {Type: "health"},
		{Type: "volume", LabelNames: []string{"name"}},
	},
}

// decoder decodes one deployment, recording where each field came from.
type decoder struct {
	dep   *Deployment
	ctx   *hcl.EvalContext
	diags hcl.Diagnostics
}

func (d *decoder) note(path string, rng hcl.Range) { d.dep.ranges[path] = rng }

func (d *decoder) add(diags hcl.Diagnostics) { d.diags = append(d.diags, diags...) }

func decodeDeployment(block *hcl.Block, ctx *hcl.EvalContext, backends map[string]*Backend) (*Deployment, hcl.Diagnostics) {
	dep := &Deployment{DeclRange: block.DefRange, ranges: map[string]hcl.Range{"name": block.LabelRanges[0]}}
	dep.Spec.Name = block.Labels[0]
	content, diags := block.Body.Content(deploymentSchema)
	if diags.HasErrors() && content == nil {
		return nil, diags
	}
	d := &decoder{dep: dep, diags: diags}
	for _, f := range []struct {
		name string
		into *string
	}{{"tenant", &dep.Spec.Tenant}, {"environment", &dep.Spec.Environment}} {
		if attr, ok := content.Attributes[f.name]; ok {
			v, diags := evalString(attr, ctx)
			d.add(diags)
			*f.into = v
			d.note(f.name, attr.Expr.Range())
		}
	}
	if attr, ok := content.Attributes["backend"]; ok {
		dep.Backend = d.backendRef(attr, ctx, backends)
	}
	d.ctx = serviceContext(ctx, content.Blocks)
	seen := map[string]hcl.Range{}
	for _, b := range content.Blocks {
		name := b.Labels[0]
		if first, dup := seen[name]; dup {
			d.add(hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Duplicate service",
				Detail: fmt.Sprintf("Service %q is already defined at %s.", name, first), Subject: b.LabelRanges[0].Ptr()}})
			continue
		}
		seen[name] = b.DefRange
		dep.Spec.Services = append(dep.Spec.Services, d.service(b))
	}
	d.checkSpec()
	return dep, d.diags
}

// serviceContext adds "service": service.<name> is an object naming it, for
// depends_on.
func serviceContext(ctx *hcl.EvalContext, blocks hcl.Blocks) *hcl.EvalContext {
	services := map[string]cty.Value{}
	for _, b := range blocks {
		services[b.Labels[0]] = cty.ObjectVal(map[string]cty.Value{"name": cty.StringVal(b.Labels[0])})
	}
	child := ctx.NewChild()
	child.Variables = map[string]cty.Value{"service": cty.ObjectVal(services)}
	return child
}

func (d *decoder) backendRef(attr *hcl.Attribute, ctx *hcl.EvalContext, backends map[string]*Backend) *Backend {
	v, diags := eval(attr, ctx)
	d.add(diags)
	if v == cty.NilVal {
		return nil
	}
	if !v.Type().IsObjectType() || !v.Type().HasAttribute("id") {
		d.add(hcl.Diagnostics{attrDiag(attr, "Invalid backend reference",
			fmt.Errorf("backend must refer to a backend block, such as backend.compose.local"))})
		return nil
	}
	return backends[v.GetAttr("id").AsString()]
}

func (d *decoder) service(b *hcl.Block) core.ServiceSpec {
	s := core.ServiceSpec{Name: b.Labels[0], Replicas: 1}
	p := "service." + s.Name
	d.note(p, b.DefRange)
	content, diags := b.Body.Content(serviceSchema)
	d.add(diags)
	attrs := content.Attributes
	if a, ok := attrs["image"]; ok {
		s.Image = d.str(a, p+".image")
		if s.Image != "" {
			if err := checkImage(s.Image); err != nil {
				d.add(hcl.Diagnostics{attrDiag(a, "Invalid image reference", err)})
			}
		}
	}
	if a, ok := attrs["command"]; ok {
		s.Command = d.list(a, p+".command")
	}
	if a, ok := attrs["args"]; ok {
		s.Args = d.list(a, p+".args")
	}
	if a, ok := attrs["replicas"]; ok {
		n, diags := evalInt(a, d.ctx, 0, core.MaxReplicas)
		d.add(diags)
		s.Replicas = n
		d.note(p+".replicas", a.Expr.Range())
	}
	if a, ok := attrs["env"]; ok {
		s.Env = d.strMap(a, p+".env")
	}
	if a, ok := attrs["labels"]; ok {
		s.Labels = d.strMap(a, p+".labels")
	}
	if a, ok := attrs["secret_env"]; ok {
		s.SecretEnv = d.secrets(a, p+".secret_env")
	}
	if a, ok := attrs["depends_on"]; ok {
		s.DependsOn = d.serviceRefs(a, p+".depends_on")
	}
	for _, blk := range content.Blocks {
		switch blk.Type {
		case "port":
			s.Ports = append(s.Ports, d.port(blk, p))
		case "volume":
			s.Volumes = append(s.Volumes, d.volume(blk, p, len(s.Volumes)))
		case "resources":
			s.Resources = d.resources(blk, p)
		case "health":
			s.Health = d.health(blk, p)
		}
	}
	return s
}

func (d *decoder) str(a *hcl.Attribute, path string) string {
	v, diags := evalString(a, d.ctx)
	d.add(diags)
	d.note(path, a.Expr.Range())
	return v
}

func (d *decoder) list(a *hcl.Attribute, path string) []string {
	v, diags := evalStringList(a, d.ctx)
	d.add(diags)
	d.note(path, a.Expr.Range())
	return v
}

func (d *decoder) strMap(a *hcl.Attribute, path string) map[string]string {
	v, diags := evalStringMap(a, d.ctx)
	d.add(diags)
	d.note(path, a.Expr.Range())
	return v
}

// secrets reads secret_env = { NAME = secret("ref") }.
func (d *decoder) secrets(a *hcl.Attribute, path string) []core.SecretRef {
	d.note(path, a.Expr.Range())
	v, diags := eval(a, d.ctx)
	d.add(diags)
	if v == cty.NilVal {
		return nil
	}
	if !v.Type().IsObjectType() && !v.Type().IsMapType() {
		d.add(hcl.Diagnostics{attrDiag(a, "Incorrect attribute value type", fmt.Errorf("secret_env must be a map such as { DB_PASSWORD = secret(\"trading/db-password\") }"))})
		return nil
	}
	var out []core.SecretRef
	for it := v.ElementIterator(); it.Next(); {
		k, e := it.Element()
		if e.Type() != secretType {
			d.add(hcl.Diagnostics{attrDiag(a, "Not a secret reference",
				fmt.Errorf("secret_env.%s must be secret(\"name\"); plain values belong in env", k.AsString()))})
			continue
		}
		out = append(out, core.SecretRef{Env: k.AsString(), Ref: e.EncapsulatedValue().(*secretRef).ref})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Env < out[j].Env })
	return out
}

// serviceRefs reads depends_on = [service.db, ...].
func (d *decoder) serviceRefs(a *hcl.Attribute, path string) []string {
	d.note(path, a.Expr.Range())
	v, diags := eval(a, d.ctx)
	d.add(diags)
	if v == cty.NilVal {
		return nil
	}
	if !v.CanIterateElements() || v.Type().IsMapType() || v.Type().IsObjectType() {
		d.add(hcl.Diagnostics{attrDiag(a, "Incorrect attribute value type", fmt.Errorf("depends_on must be a list of services, such as [service.db]"))})
		return nil
	}
	var out []string
	for it := v.ElementIterator(); it.Next(); {
		_, e := it.Element()
		if !e.Type().IsObjectType() || !e.Type().HasAttribute("name") {
			d.add(hcl.Diagnostics{attrDiag(a, "Invalid service reference", fmt.Errorf("depends_on lists services as references such as service.db, not %s", e.Type().FriendlyName()))})
			continue
		}
		out = append(out, e.GetAttr("name").AsString())
	}
	return out
}

var portSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "container", Required: true}, {Name: "host"}, {Name: "protocol"}}}

func (d *decoder) port(b *hcl.Block, svc string) core.Port {
	port := core.Port{Name: b.Labels[0], Protocol: core.ProtocolTCP}
	p := svc + ".port." + port.Name
	d.note(p, b.DefRange)
	content, diags := b.Body.Content(portSchema)
	d.add(diags)
	if a, ok := content.Attributes["container"]; ok {
		port.Container = d.int(a, p+".container", 1, 65535)
	}
	if a, ok := content.Attributes["host"]; ok {
		port.Host = d.int(a, p+".host", 1, 65535)
	}
	if a, ok := content.Attributes["protocol"]; ok {
		port.Protocol = core.Protocol(d.str(a, p+".protocol"))
	}
	return port
}

func (d *decoder) int(a *hcl.Attribute, path string, lo, hi int) int {
	n, diags := evalInt(a, d.ctx, lo, hi)
	d.add(diags)
	d.note(path, a.Expr.Range())
	return n
}

var volumeSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "path", Required: true}, {Name: "read_only"}}}

func (d *decoder) volume(b *hcl.Block, svc string, i int) core.VolumeMount {
	v := core.VolumeMount{Volume: b.Labels[0]}
	p := fmt.Sprintf("%s.volume[%d]", svc, i)
	d.note(p, b.DefRange)
	d.note(p+".volume", b.LabelRanges[0])
	content, diags := b.Body.Content(volumeSchema)
	d.add(diags)
	if a, ok := content.Attributes["path"]; ok {
		v.Path = d.str(a, p+".path")
	}
	if a, ok := content.Attributes["read_only"]; ok {
		ro, diags := evalBool(a, d.ctx)
		d.add(diags)
		v.ReadOnly = ro
	}
	return v
}

var resourcesSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "cpu"}, {Name: "memory"}}}

func (d *decoder) resources(b *hcl.Block, svc string) core.Resources {
	var r core.Resources
	p := svc + ".resources"
	d.note(p, b.DefRange)
	content, diags := b.Body.Content(resourcesSchema)
	d.add(diags)
	if a, ok := content.Attributes["cpu"]; ok {
		d.note(p+".cpu", a.Expr.Range())
		n, diags := evalNumber(a, d.ctx)
		d.add(diags)
		if n != nil {
			r.CPU, _ = n.Float64()
			if r.CPU <= 0 || r.CPU > 1024 {
				d.add(hcl.Diagnostics{attrDiag(a, "Value out of range", fmt.Errorf("cpu is in cores and must be more than 0 and at most 1024, such as 0.5"))})
			}
		}
	}
	if a, ok := content.Attributes["memory"]; ok {
		d.note(p+".memory", a.Expr.Range())
		v, diags := eval(a, d.ctx)
		d.add(diags)
		if v != cty.NilVal {
			size, err := parseSize(v)
			if err != nil {
				d.add(hcl.Diagnostics{attrDiag(a, "Invalid size", err)})
			}
			r.MemoryBytes = size
		}
	}
	return r
}

var healthSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "http"}, {Name: "tcp"}, {Name: "command"}, {Name: "port"},
	{Name: "interval"}, {Name: "timeout"}, {Name: "start_period"}, {Name: "retries"},
}}

func (d *decoder) health(b *hcl.Block, svc string) *core.HealthCheck {
	h := &core.HealthCheck{Retries: 3}
	p := svc + ".health"
	d.note(p, b.DefRange)
	content, diags := b.Body.Content(healthSchema)
	d.add(diags)
	attrs := content.Attributes
	kinds := 0
	if a, ok := attrs["http"]; ok {
		h.Kind, h.Path = core.HealthCheckHTTP, d.str(a, p+".http")
		kinds++
	}
	if a, ok := attrs["tcp"]; ok {
		on, diags := evalBool(a, d.ctx)
		d.add(diags)
		d.note(p+".tcp", a.Expr.Range())
		if on {
			h.Kind = core.HealthCheckTCP
			kinds++
		}
	}
	if a, ok := attrs["command"]; ok {
		h.Kind, h.Command = core.HealthCheckCommand, d.list(a, p+".command")
		kinds++
	}
	if kinds != 1 {
		d.add(hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid health check",
			Detail: "A health block needs exactly one of http = \"/path\", tcp = true or command = [...].", Subject: b.DefRange.Ptr()}})
	}
	if a, ok := attrs["port"]; ok {
		h.Port = d.str(a, p+".port")
	}
	for name, into := range map[string]*core.Duration{"interval": &h.Interval, "timeout": &h.Timeout, "start_period": &h.StartPeriod} {
		if a, ok := attrs[name]; ok {
			d.note(p+"."+name, a.Expr.Range())
			v, diags := eval(a, d.ctx)
			d.add(diags)
			if v != cty.NilVal {
				dur, err := parseDuration(v)
				if err != nil {
					d.add(hcl.Diagnostics{attrDiag(a, "Invalid duration", err)})
				}
				*into = dur
			}
		}
	}
	if a, ok := attrs["retries"]; ok {
		h.Retries = d.int(a, p+".retries", 0, 100)
	}
	return h
}

// checkSpec runs core's checks on the decoded spec and points each problem
// at its source.
func (d *decoder) checkSpec() {
	if d.diags.HasErrors() {
		return // decoding errors come first; the spec is incomplete
	}
	err := d.dep.Spec.Validate()
	verr, ok := err.(core.ValidationError)
	if !ok {
		return
	}
	for _, fe := range verr {
		rng := d.dep.Range(fe.Path)
		d.add(hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid " + lastStep(fe.Path),
			Detail: fmt.Sprintf("%s: %s.", fe.Path, fe.Message), Subject: &rng}})
	}
}

func lastStep(path string) string {
	for i := len(path) - 1; i >= 0; i-- {
		if path[i] == '.' {
			return path[i+1:]
		}
	}
	return path
}
