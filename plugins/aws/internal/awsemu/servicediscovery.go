package awsemu

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// sdNamespace is a Cloud Map HTTP namespace.
type sdNamespace struct {
	id, arn, name, description, creatorRequestID string
	tags                                         map[string]string
	created                                      time.Time
	readyAt                                      time.Time // its create operation succeeds then
}

// sdService is a Cloud Map service, as ECS Service Connect creates one per
// discovery name in the namespace.
type sdService struct {
	id, arn, name, namespaceID string
	ecsService                 string // cluster/name of the ECS service that made it
}

// sdOperation is an asynchronous Cloud Map operation.
type sdOperation struct {
	id, kind, namespaceID string
	created, doneAt       time.Time
}

type sdState struct {
	namespaces map[string]*sdNamespace // by id
	services   map[string]*sdService   // by id
	operations map[string]*sdOperation
	seq        int
}

func newSD() *sdState {
	return &sdState{namespaces: map[string]*sdNamespace{}, services: map[string]*sdService{}, operations: map[string]*sdOperation{}}
}

// visible returns the namespace of id, name or ARN whose creation has
// completed.
func (d *sdState) visible(ref string, now time.Time) *sdNamespace {
	for _, ns := range d.namespaces {
		if (ns.id == ref || ns.name == ref || ns.arn == ref) && !now.Before(ns.readyAt) {
			return ns
		}
	}
	return nil
}

type sdTag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

type sdFilter struct {
	Name      string   `json:"Name"`
	Values    []string `json:"Values"`
	Condition string   `json:"Condition"`
}

func (f sdFilter) match(v string) (bool, *apiError) {
	switch f.Condition {
	case "", "EQ":
		if len(f.Values) != 1 {
			return false, errorf(400, "InvalidInput", "EQ takes exactly one value")
		}
		return v == f.Values[0], nil
	case "IN":
		return slices.Contains(f.Values, v), nil
	case "BEGINS_WITH":
		if len(f.Values) != 1 {
			return false, errorf(400, "InvalidInput", "BEGINS_WITH takes exactly one value")
		}
		return strings.HasPrefix(v, f.Values[0]), nil
	}
	return false, errorf(400, "InvalidInput", "unsupported condition %q", f.Condition)
}

// handleSD serves Cloud Map (servicediscovery, awsJson1_1 with the target
// prefix Route53AutoNaming_v20170314).
func (s *Server) handleSD(op string, body []byte) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.sd
	now := time.Now()
	var in struct {
		Name             string     `json:"Name"`
		Id               string     `json:"Id"`
		OperationId      string     `json:"OperationId"`
		CreatorRequestId string     `json:"CreatorRequestId"`
		Description      string     `json:"Description"`
		Tags             []sdTag    `json:"Tags"`
		Filters          []sdFilter `json:"Filters"`
		NextToken        string     `json:"NextToken"`
		MaxResults       int        `json:"MaxResults"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	newOp := func(kind, nsID string) string {
		d.seq++
		o := &sdOperation{id: fmt.Sprintf("emuop%016d", d.seq), kind: kind, namespaceID: nsID, created: now, doneAt: now.Add(s.opts.Step)}
		d.operations[o.id] = o
		return o.id
	}
	switch op {
	case "CreateHttpNamespace":
		if in.Name == "" || len(in.Name) > 1024 || strings.ContainsFunc(in.Name, func(r rune) bool { return r < '!' || r > '~' }) {
			return nil, errorf(400, "InvalidInput", "Namespace name is invalid.")
		}
		for _, ns := range d.namespaces {
			if ns.name != in.Name {
				continue
			}
			if in.CreatorRequestId != "" && ns.creatorRequestID == in.CreatorRequestId {
				for _, o := range d.operations {
					if o.namespaceID == ns.id && o.kind == "CREATE_NAMESPACE" {
						return map[string]any{"OperationId": o.id}, nil
					}
				}
			}
			return nil, &apiError{status: 400, code: "NamespaceAlreadyExists", msg: fmt.Sprintf("Namespace %s already exists.", in.Name)}
		}
		tags := map[string]string{}
		for _, t := range in.Tags {
			if t.Key == "" || len(t.Key) > 128 || len(t.Value) > 256 {
				return nil, errorf(400, "InvalidInput", "invalid tag %q", t.Key)
			}
			tags[t.Key] = t.Value
		}
		d.seq++
		id := fmt.Sprintf("ns-emu%010d", d.seq)
		ns := &sdNamespace{id: id, arn: fmt.Sprintf("arn:aws:servicediscovery:%s:%s:namespace/%s", s.opts.Region, AccountID, id),
			name: in.Name, description: in.Description, creatorRequestID: in.CreatorRequestId, tags: tags, created: now, readyAt: now.Add(s.opts.Step)}
		d.namespaces[id] = ns
		return map[string]any{"OperationId": newOp("CREATE_NAMESPACE", id)}, nil
	case "GetOperation":
		o, ok := d.operations[in.OperationId]
		if !ok {
			return nil, errorf(400, "OperationNotFound", "Operation %s not found.", in.OperationId)
		}
		status := "SUCCESS"
		if now.Before(o.doneAt) {
			status = "PENDING"
			if now.Sub(o.created) < s.opts.Step/2 {
				status = "SUBMITTED"
			}
		}
		return map[string]any{"Operation": map[string]any{"Id": o.id, "Type": o.kind, "Status": status,
			"CreateDate": epoch(o.created), "UpdateDate": epoch(now), "Targets": map[string]string{"NAMESPACE": o.namespaceID}}}, nil
	case "GetNamespace":
		ns := d.visible(in.Id, now)
		if ns == nil || ns.id != in.Id {
			return nil, errorf(400, "NamespaceNotFound", "Namespace not found.")
		}
		return map[string]any{"Namespace": d.describe(ns)}, nil
	case "ListNamespaces":
		var list []map[string]any
		for _, id := range slices.Sorted(maps.Keys(d.namespaces)) {
			ns := d.namespaces[id]
			if now.Before(ns.readyAt) {
				continue
			}
			ok := true
			for _, f := range in.Filters {
				var v string
				switch f.Name {
				case "TYPE":
					v = "HTTP"
				case "NAME", "HTTP_NAME":
					v = ns.name
				default:
					return nil, errorf(400, "InvalidInput", "unsupported filter %q", f.Name)
				}
				m, err := f.match(v)
				if err != nil {
					return nil, err
				}
				ok = ok && m
			}
			if ok {
				list = append(list, d.describe(ns))
			}
		}
		pg, next, err := page(list, in.NextToken, in.MaxResults, s.opts.PageSize)
		if err != nil {
			return nil, err
		}
		return map[string]any{"Namespaces": nonNil(pg), "NextToken": nilIfEmpty(next)}, nil
	case "DeleteNamespace":
		ns := d.visible(in.Id, now)
		if ns == nil || ns.id != in.Id {
			return nil, errorf(400, "NamespaceNotFound", "Namespace not found.")
		}
		for _, svc := range d.services {
			if svc.namespaceID == ns.id {
				return nil, errorf(400, "ResourceInUse", "Namespace %s has services: delete them first.", ns.id)
			}
		}
		delete(d.namespaces, ns.id)
		return map[string]any{"OperationId": newOp("DELETE_NAMESPACE", ns.id)}, nil
	case "ListServices":
		var list []map[string]any
		for _, id := range slices.Sorted(maps.Keys(d.services)) {
			svc := d.services[id]
			ok := true
			for _, f := range in.Filters {
				if f.Name != "NAMESPACE_ID" {
					return nil, errorf(400, "InvalidInput", "unsupported filter %q", f.Name)
				}
				m, err := f.match(svc.namespaceID)
				if err != nil {
					return nil, err
				}
				ok = ok && m
			}
			if ok {
				list = append(list, map[string]any{"Id": svc.id, "Arn": svc.arn, "Name": svc.name, "Type": "HTTP"})
			}
		}
		pg, next, err := page(list, in.NextToken, in.MaxResults, s.opts.PageSize)
		if err != nil {
			return nil, err
		}
		return map[string]any{"Services": nonNil(pg), "NextToken": nilIfEmpty(next)}, nil
	case "DeleteService":
		svc, ok := d.services[in.Id]
		if !ok {
			return nil, errorf(400, "ServiceNotFound", "Service not found.")
		}
		// Instances stay registered while tasks of a deployment serving
		// the name run or drain.
		if ecsSvc, active := s.ecs.services[svc.ecsService]; active && servesName(ecsSvc, svc.name) {
			return nil, errorf(400, "ResourceInUse", "Service %s has registered instances.", svc.id)
		}
		delete(d.services, svc.id)
		return map[string]any{}, nil
	}
	return nil, errorf(400, "UnknownOperationException", "the emulator does not implement servicediscovery.%s", op)
}

func (d *sdState) describe(ns *sdNamespace) map[string]any {
	count := 0
	for _, svc := range d.services {
		if svc.namespaceID == ns.id {
			count++
		}
	}
	return map[string]any{"Id": ns.id, "Arn": ns.arn, "Name": ns.name, "Type": "HTTP", "Description": ns.description,
		"ServiceCount": count, "CreateDate": epoch(ns.created), "CreatorRequestId": ns.creatorRequestID,
		"Properties": map[string]any{"HttpProperties": map[string]string{"HttpName": ns.name}}}
}

// ServiceConnect is an ECS service's serviceConnectConfiguration.
type ServiceConnect struct {
	Enabled   bool                    `json:"enabled"`
	Namespace string                  `json:"namespace,omitempty"`
	Services  []ServiceConnectService `json:"services,omitempty"`
}

// ServiceConnectService is a port a Service Connect service serves.
type ServiceConnectService struct {
	PortName      string                `json:"portName"`
	DiscoveryName string                `json:"discoveryName,omitempty"`
	ClientAliases []ServiceConnectAlias `json:"clientAliases,omitempty"`
}

// ServiceConnectAlias is a name and port clients reach the port by.
type ServiceConnectAlias struct {
	Port    int    `json:"port"`
	DnsName string `json:"dnsName,omitempty"`
}

// serviceConnect checks an ECS service's Service Connect configuration
// (namespace created, port names in the task definition, discovery names
// free in the namespace) and registers its Cloud Map services. Called with
// s.mu held.
// servesName says whether a deployment of svc, or svc draining, has
// tasks registered under the discovery name.
func servesName(svc *Service, name string) bool {
	if svc.Status != "ACTIVE" {
		return true
	}
	for _, d := range svc.Deployments {
		if sc := d.ServiceConnectConfiguration; sc != nil && sc.Enabled {
			for _, scs := range sc.Services {
				if scs.DiscoveryName == name || (scs.DiscoveryName == "" && scs.PortName == name) {
					return true
				}
			}
		}
	}
	return false
}

func (e *ecsState) serviceConnect(key string, sc *ServiceConnect, td *TaskDefinition) *apiError {
	if sc == nil || !sc.Enabled {
		return nil
	}
	d := e.s.sd
	now := time.Now()
	ns := d.visible(sc.Namespace, now)
	if ns == nil {
		return errorf(400, "NamespaceNotFoundException", "The namespace %s was not found.", sc.Namespace)
	}
	sc.Namespace = ns.arn
	for _, scs := range sc.Services {
		found := false
		for _, c := range td.ContainerDefinitions {
			for _, pm := range c.PortMappings {
				found = found || pm["name"] == scs.PortName
			}
		}
		if !found {
			return errorf(400, "InvalidParameterException", "The port name %s is not in the task definition's port mappings.", scs.PortName)
		}
		name := scs.DiscoveryName
		if name == "" {
			name = scs.PortName
		}
		if len(name) > 64 {
			return errorf(400, "InvalidParameterException", "discoveryName %s is longer than 64 characters.", name)
		}
		for _, svc := range d.services {
			if svc.namespaceID == ns.id && svc.name == name && svc.ecsService != key {
				return errorf(400, "InvalidParameterException", "The discovery name %s is already used in namespace %s.", name, ns.name)
			}
		}
	}
	for _, scs := range sc.Services {
		name := scs.DiscoveryName
		if name == "" {
			name = scs.PortName
		}
		exists := false
		for _, svc := range d.services {
			exists = exists || (svc.namespaceID == ns.id && svc.name == name)
		}
		if !exists {
			d.seq++
			id := fmt.Sprintf("srv-emu%010d", d.seq)
			d.services[id] = &sdService{id: id, arn: fmt.Sprintf("arn:aws:servicediscovery:%s:%s:service/%s", e.s.opts.Region, AccountID, id),
				name: name, namespaceID: ns.id, ecsService: key}
		}
	}
	return nil
}

// NamespaceSnapshot is a Cloud Map namespace and its services' names.
type NamespaceSnapshot struct {
	ID       string
	ARN      string
	Tags     map[string]string
	Services []string
}

// Resolve answers what a task of the ECS service from (cluster/name)
// reaches at host:port through Service Connect: the name of the ECS
// service whose client alias in the same namespace is host:port, or ""
// when nothing answers there.
func (s *Server) Resolve(from, host string, port int) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	src, ok := s.ecs.services[from]
	if !ok || src.ServiceConnectConfiguration == nil || !src.ServiceConnectConfiguration.Enabled {
		return ""
	}
	ns := src.ServiceConnectConfiguration.Namespace
	for _, k := range slices.Sorted(maps.Keys(s.ecs.services)) {
		svc := s.ecs.services[k]
		sc := svc.ServiceConnectConfiguration
		if sc == nil || !sc.Enabled || sc.Namespace != ns || svc.Status != "ACTIVE" {
			continue
		}
		for _, scs := range sc.Services {
			for _, a := range scs.ClientAliases {
				dns := a.DnsName
				if dns == "" {
					dns = scs.DiscoveryName
				}
				if dns == host && a.Port == port {
					return svc.ServiceName
				}
			}
		}
	}
	return ""
}
