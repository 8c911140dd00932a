package awsemu

import (
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Elastic Load Balancing (elasticloadbalancingv2) in the awsQuery
// protocol: form-encoded Action and parameters in, XML out.

const elbVersion = "2015-12-01"

const elbNS = "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"

type elbListener struct {
	arn, lbArn, protocol string
	port                 int
}

type elbLB struct {
	arn, name, vpc, dns string
}

type elbTargetGroup struct {
	arn, name, protocol, vpc, targetType, healthPath string
	port                                             int
	tags                                             map[string]string
}

type elbRule struct {
	arn, listener, targetGroup string
	priority                   int
	paths                      []string
	tags                       map[string]string
}

type elbState struct {
	lbs          map[string]*elbLB
	listeners    map[string]*elbListener
	targetGroups map[string]*elbTargetGroup // by ARN
	rules        map[string]*elbRule        // by ARN
	seq          int
}

func newELB() *elbState {
	return &elbState{lbs: map[string]*elbLB{}, listeners: map[string]*elbListener{}, targetGroups: map[string]*elbTargetGroup{}, rules: map[string]*elbRule{}}
}

// CreateListener makes an application load balancer in vpc with an HTTPS
// listener on 443, as an operator would beforehand, and returns the
// listener's ARN.
func (s *Server) CreateListener(name, vpc string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.elb
	e.seq++
	lb := &elbLB{arn: fmt.Sprintf("arn:aws:elasticloadbalancing:%s:%s:loadbalancer/app/%s/%016x", s.opts.Region, AccountID, name, e.seq),
		name: name, vpc: vpc, dns: name + ".elb.emulator.local"}
	e.lbs[lb.arn] = lb
	l := &elbListener{arn: fmt.Sprintf("arn:aws:elasticloadbalancing:%s:%s:listener/app/%s/%016x/%016x", s.opts.Region, AccountID, name, e.seq, e.seq),
		lbArn: lb.arn, protocol: "HTTPS", port: 443}
	e.listeners[l.arn] = l
	return l.arn
}

// members reads the awsQuery list prefix.member.1, prefix.member.2, ...
func members(form url.Values, prefix string) []string {
	var out []string
	for i := 1; ; i++ {
		v, ok := form[fmt.Sprintf("%s.member.%d", prefix, i)]
		if !ok {
			return out
		}
		out = append(out, v[0])
	}
}

func queryTags(form url.Values) (map[string]string, *apiError) {
	tags := map[string]string{}
	for i := 1; ; i++ {
		k, ok := form[fmt.Sprintf("Tags.member.%d.Key", i)]
		if !ok {
			return tags, nil
		}
		v := form.Get(fmt.Sprintf("Tags.member.%d.Value", i))
		if k[0] == "" || len(k[0]) > 128 || len(v) > 256 {
			return nil, errorf(400, "ValidationError", "invalid tag %q", k[0])
		}
		tags[k[0]] = v
	}
}

func (tg *elbTargetGroup) xml() string {
	return fmt.Sprintf(`<member><TargetGroupArn>%s</TargetGroupArn><TargetGroupName>%s</TargetGroupName><Protocol>%s</Protocol><Port>%d</Port><VpcId>%s</VpcId><TargetType>%s</TargetType><HealthCheckPath>%s</HealthCheckPath></member>`,
		xmlEscape(tg.arn), xmlEscape(tg.name), tg.protocol, tg.port, xmlEscape(tg.vpc), tg.targetType, xmlEscape(tg.healthPath))
}

func (r *elbRule) xml() string {
	var paths strings.Builder
	for _, p := range r.paths {
		fmt.Fprintf(&paths, "<member>%s</member>", xmlEscape(p))
	}
	return fmt.Sprintf(`<member><RuleArn>%s</RuleArn><Priority>%d</Priority><IsDefault>false</IsDefault>`+
		`<Conditions><member><Field>path-pattern</Field><Values>%s</Values><PathPatternConfig><Values>%s</Values></PathPatternConfig></member></Conditions>`+
		`<Actions><member><Type>forward</Type><TargetGroupArn>%s</TargetGroupArn><Order>1</Order></member></Actions></member>`,
		xmlEscape(r.arn), r.priority, paths.String(), paths.String(), xmlEscape(r.targetGroup))
}

// serveELB answers one elasticloadbalancingv2 action, signed for
// elasticloadbalancing.
func (s *Server) serveELB(w http.ResponseWriter, r *http.Request, body []byte, form url.Values, fail func(*apiError)) {
	action := form.Get("Action")
	if aerr := s.checkSignature(r, body, "elasticloadbalancing"); aerr != nil {
		fail(aerr)
		return
	}
	if aerr := s.fire("elasticloadbalancing."+action, r.Context()); aerr != nil {
		fail(aerr)
		return
	}
	s.mu.Lock()
	result, aerr := s.elbAction(action, form)
	s.mu.Unlock()
	if aerr != nil {
		fail(aerr)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprintf(w, `<%[1]sResponse xmlns="%[2]s"><%[1]sResult>%[3]s</%[1]sResult><ResponseMetadata><RequestId>emu-%[4]d</RequestId></ResponseMetadata></%[1]sResponse>`,
		action, elbNS, result, time.Now().UnixNano())
}

func (s *Server) elbAction(action string, form url.Values) (string, *apiError) {
	e := s.elb
	switch action {
	case "DescribeListeners":
		var b strings.Builder
		for _, arn := range members(form, "ListenerArns") {
			l, ok := e.listeners[arn]
			if !ok {
				return "", errorf(400, "ListenerNotFound", "One or more listeners not found")
			}
			fmt.Fprintf(&b, `<member><ListenerArn>%s</ListenerArn><LoadBalancerArn>%s</LoadBalancerArn><Port>%d</Port><Protocol>%s</Protocol></member>`,
				xmlEscape(l.arn), xmlEscape(l.lbArn), l.port, l.protocol)
		}
		return "<Listeners>" + b.String() + "</Listeners>", nil
	case "DescribeLoadBalancers":
		var b strings.Builder
		for _, arn := range members(form, "LoadBalancerArns") {
			lb, ok := e.lbs[arn]
			if !ok {
				return "", errorf(400, "LoadBalancerNotFound", "One or more load balancers not found")
			}
			fmt.Fprintf(&b, `<member><LoadBalancerArn>%s</LoadBalancerArn><LoadBalancerName>%s</LoadBalancerName><DNSName>%s</DNSName><VpcId>%s</VpcId><Type>application</Type><Scheme>internet-facing</Scheme></member>`,
				xmlEscape(lb.arn), xmlEscape(lb.name), xmlEscape(lb.dns), xmlEscape(lb.vpc))
		}
		return "<LoadBalancers>" + b.String() + "</LoadBalancers>", nil
	case "CreateTargetGroup":
		name := form.Get("Name")
		if name == "" || len(name) > 32 || strings.HasPrefix(name, "-") || strings.HasSuffix(name, "-") ||
			strings.Trim(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") != "" {
			return "", errorf(400, "ValidationError", "Target group name '%s' can have a maximum of 32 characters, alphanumeric and hyphens, not starting or ending with a hyphen", name)
		}
		port, _ := strconv.Atoi(form.Get("Port"))
		tg := &elbTargetGroup{name: name, protocol: form.Get("Protocol"), vpc: form.Get("VpcId"), targetType: form.Get("TargetType"),
			port: port, healthPath: form.Get("HealthCheckPath")}
		if tg.targetType == "ip" && (tg.vpc == "" || port == 0 || tg.protocol == "") {
			return "", errorf(400, "ValidationError", "A VPC ID, port and protocol must be specified for target groups of type ip")
		}
		if tg.healthPath == "" {
			tg.healthPath = "/"
		}
		for _, old := range e.targetGroups {
			if old.name != name {
				continue
			}
			if old.protocol == tg.protocol && old.port == tg.port && old.vpc == tg.vpc && old.targetType == tg.targetType && old.healthPath == tg.healthPath {
				return "<TargetGroups>" + old.xml() + "</TargetGroups>", nil
			}
			return "", errorf(400, "DuplicateTargetGroupName", "A target group with the same name '%s' exists, but with different settings", name)
		}
		tags, aerr := queryTags(form)
		if aerr != nil {
			return "", aerr
		}
		tg.tags = tags
		e.seq++
		tg.arn = fmt.Sprintf("arn:aws:elasticloadbalancing:%s:%s:targetgroup/%s/%016x", s.opts.Region, AccountID, name, e.seq)
		e.targetGroups[tg.arn] = tg
		return "<TargetGroups>" + tg.xml() + "</TargetGroups>", nil
	case "DescribeTargetGroups":
		names, arns := members(form, "Names"), members(form, "TargetGroupArns")
		var b strings.Builder
		for _, arn := range slices.Sorted(maps.Keys(e.targetGroups)) {
			tg := e.targetGroups[arn]
			if (len(names) == 0 || slices.Contains(names, tg.name)) && (len(arns) == 0 || slices.Contains(arns, tg.arn)) {
				b.WriteString(tg.xml())
			}
		}
		if (len(names) > 0 || len(arns) > 0) && b.Len() == 0 {
			return "", errorf(400, "TargetGroupNotFound", "One or more target groups not found")
		}
		return "<TargetGroups>" + b.String() + "</TargetGroups>", nil
	case "DeleteTargetGroup":
		arn := form.Get("TargetGroupArn")
		if _, ok := e.targetGroups[arn]; !ok {
			return "", nil // deleting a target group that is gone succeeds
		}
		for _, r := range e.rules {
			if r.targetGroup == arn {
				return "", errorf(400, "ResourceInUse", "Target group '%s' is currently in use by a listener or a rule", arn)
			}
		}
		for _, svc := range s.ecs.services {
			for _, lb := range svc.LoadBalancers {
				if lb.TargetGroupArn == arn {
					return "", errorf(400, "ResourceInUse", "Target group '%s' is currently in use by ECS service %s", arn, svc.ServiceName)
				}
			}
		}
		delete(e.targetGroups, arn)
		return "", nil
	case "DescribeRules":
		l, ok := e.listeners[form.Get("ListenerArn")]
		if !ok {
			return "", errorf(400, "ListenerNotFound", "One or more listeners not found")
		}
		var rules []*elbRule
		for _, arn := range slices.Sorted(maps.Keys(e.rules)) {
			if e.rules[arn].listener == l.arn {
				rules = append(rules, e.rules[arn])
			}
		}
		size, _ := strconv.Atoi(form.Get("PageSize"))
		pg, next, aerr := page(rules, form.Get("Marker"), size, s.opts.PageSize)
		if aerr != nil {
			return "", aerr
		}
		var b strings.Builder
		for _, r := range pg {
			b.WriteString(r.xml())
		}
		out := "<Rules>" + b.String() + "</Rules>"
		if next != "" {
			out += "<NextMarker>" + next + "</NextMarker>"
		}
		return out, nil
	case "CreateRule":
		l, ok := e.listeners[form.Get("ListenerArn")]
		if !ok {
			return "", errorf(400, "ListenerNotFound", "One or more listeners not found")
		}
		priority, err := strconv.Atoi(form.Get("Priority"))
		if err != nil || priority < 1 || priority > 50000 {
			return "", errorf(400, "ValidationError", "Priority must be between 1 and 50000")
		}
		for _, r := range e.rules {
			if r.listener == l.arn && r.priority == priority {
				return "", errorf(400, "PriorityInUse", "Priority '%d' is currently in use", priority)
			}
		}
		if form.Get("Conditions.member.1.Field") != "path-pattern" || form.Get("Conditions.member.2.Field") != "" {
			return "", errorf(400, "ValidationError", "the emulator takes one path-pattern condition")
		}
		paths := members(form, "Conditions.member.1.PathPatternConfig.Values")
		if len(paths) == 0 || len(paths) > 5 {
			return "", errorf(400, "ValidationError", "A path-pattern condition takes 1 to 5 values")
		}
		for _, p := range paths {
			if len(p) > 128 {
				return "", errorf(400, "ValidationError", "A path pattern can have a maximum of 128 characters")
			}
		}
		tg := form.Get("Actions.member.1.TargetGroupArn")
		if form.Get("Actions.member.1.Type") != "forward" || e.targetGroups[tg] == nil {
			return "", errorf(400, "TargetGroupNotFound", "One or more target groups not found")
		}
		tags, aerr := queryTags(form)
		if aerr != nil {
			return "", aerr
		}
		e.seq++
		r := &elbRule{arn: fmt.Sprintf("%s/%016x", strings.Replace(l.arn, ":listener/", ":listener-rule/", 1), e.seq),
			listener: l.arn, targetGroup: tg, priority: priority, paths: paths, tags: tags}
		e.rules[r.arn] = r
		return "<Rules>" + r.xml() + "</Rules>", nil
	case "DeleteRule":
		if _, ok := e.rules[form.Get("RuleArn")]; !ok {
			return "", errorf(400, "RuleNotFound", "One or more rules not found")
		}
		delete(e.rules, form.Get("RuleArn"))
		return "", nil
	}
	return "", errorf(400, "InvalidAction", "the emulator does not implement elasticloadbalancing.%s", action)
}

// RuleSnapshot is a listener rule: its path patterns and the target
// group it forwards to.
type RuleSnapshot struct {
	Priority    int
	Paths       []string
	TargetGroup string // name
	Port        int    // of the target group
	Tags        map[string]string
}

// TargetGroupSnapshot is a target group.
type TargetGroupSnapshot struct {
	ARN, TargetType, Protocol string
	Port                      int
	Tags                      map[string]string
}
