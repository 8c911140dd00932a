package sdk

import (
	"encoding/json"
	"maps"
	"slices"

	"github.com/alphaswarm/controller/core"
)

// DiffServices compares the services a backend runs (prior) with the ones
// asked for (next) and returns a ServiceChange per service: next's services in
// order (create, update or no-op), then prior's services that next drops
// (delete). Fields are compared by their JSON paths, such as
// "resources.memory_bytes"; lists compare whole. Backends can build their
// Plan on it and add what only they know.
func DiffServices(prior, next []core.ServiceSpec) []ServiceChange {
	old := make(map[string]*core.ServiceSpec, len(prior))
	for i := range prior {
		old[prior[i].Name] = &prior[i]
	}
	changes := make([]ServiceChange, 0, len(next))
	kept := make(map[string]bool, len(next))
	for i := range next {
		s := &next[i]
		kept[s.Name] = true
		before, ok := old[s.Name]
		switch {
		case !ok:
			changes = append(changes, ServiceChange{Service: s.Name, Action: ActionCreate, Fields: diffFields(nil, s)})
		default:
			fields := diffFields(before, s)
			action := ActionUpdate
			if len(fields) == 0 {
				action = ActionNoop
			}
			changes = append(changes, ServiceChange{Service: s.Name, Action: action, Fields: fields})
		}
	}
	for i := range prior {
		if !kept[prior[i].Name] {
			changes = append(changes, ServiceChange{Service: prior[i].Name, Action: ActionDelete})
		}
	}
	return changes
}

func diffFields(before, after *core.ServiceSpec) []FieldChange {
	b, a := flatten(before), flatten(after)
	keys := slices.Sorted(maps.Keys(a))
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	var out []FieldChange
	for _, k := range keys {
		if k == "name" || b[k] == a[k] {
			continue
		}
		out = append(out, FieldChange{Path: k, Before: b[k], After: a[k]})
	}
	return out
}

// flatten renders a service as path -> JSON value, descending into objects.
func flatten(s *core.ServiceSpec) map[string]string {
	out := map[string]string{}
	if s == nil {
		return out
	}
	raw, _ := json.Marshal(s)
	var v map[string]any
	_ = json.Unmarshal(raw, &v)
	flattenInto(out, "", v)
	return out
}

func flattenInto(out map[string]string, prefix string, v map[string]any) {
	for k, val := range v {
		if obj, ok := val.(map[string]any); ok && len(obj) > 0 {
			flattenInto(out, prefix+k+".", obj)
			continue
		}
		enc, _ := json.Marshal(val)
		out[prefix+k] = string(enc)
	}
}
