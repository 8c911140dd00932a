package sdk

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// Type is an attribute's type constraint, written as in Terraform: string,
// number, bool, list(T) or map(T).
type Type string

// The primitive types.
const (
	TypeString Type = "string"
	TypeNumber Type = "number"
	TypeBool   Type = "bool"
)

// ListOf returns the type list(elem).
func ListOf(elem Type) Type { return "list(" + elem + ")" }

// MapOf returns the type map(elem), a map with string keys.
func MapOf(elem Type) Type { return "map(" + elem + ")" }

// split returns the collection kind ("list", "map" or "") and element type.
func (t Type) split() (kind string, elem Type) {
	for _, k := range []string{"list", "map"} {
		if s, ok := strings.CutPrefix(string(t), k+"("); ok && strings.HasSuffix(s, ")") {
			return k, Type(strings.TrimSuffix(s, ")"))
		}
	}
	return "", t
}

// valid reports whether t is a type this SDK knows.
func (t Type) valid() bool {
	switch kind, elem := t.split(); kind {
	case "":
		return t == TypeString || t == TypeNumber || t == TypeBool
	default:
		return elem.valid()
	}
}

// Attribute is one argument of a configuration block.
type Attribute struct {
	Name        string `json:"name"`
	Type        Type   `json:"type"`
	Description string `json:"description,omitempty"`
	Required    bool   `json:"required,omitempty"`
	// Sensitive values (passwords, keys) are never shown in plans, logs or
	// diagnostics.
	Sensitive bool `json:"sensitive,omitempty"`
	// Default is used when an optional attribute is absent; it must be a
	// value of Type as encoding/json would decode it.
	Default any `json:"default,omitempty"`
	// TenantSettable attributes may be set by a tenant's topology, in its
	// reference to a backend an operator registered: mark only those that
	// reach nothing of the host (no address, path, program, credential,
	// namespace or name prefix) and no other tenant. Every other attribute
	// is the operator's alone. A nested block is the tenant's to set when
	// all its attributes are.
	TenantSettable bool `json:"tenant_settable,omitempty"`
}

// Nesting says how many times a nested block may appear.
type Nesting string

// The block nestings.
const (
	// NestingSingle: at most one block; its value is a JSON object.
	NestingSingle Nesting = "single"
	// NestingList: any number of blocks; its value is a JSON array of objects.
	NestingList Nesting = "list"
)

// Block is a nested configuration block, such as tls { ... }.
type Block struct {
	Name        string  `json:"name"`
	Description string  `json:"description,omitempty"`
	Nesting     Nesting `json:"nesting"`
	MinItems    int     `json:"min_items,omitempty"`
	MaxItems    int     `json:"max_items,omitempty"`
	Schema      Schema  `json:"schema"`
}

// Schema describes a backend's configuration block: its attributes and
// nested blocks. The host checks topology files against it, and the SDK checks
// every Configure call against it before the backend sees the values.
type Schema struct {
	Attributes []Attribute `json:"attributes,omitempty"`
	Blocks     []Block     `json:"blocks,omitempty"`
}

var identifier = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// Check reports mistakes in the schema itself: bad or duplicate names,
// unknown types, defaults of the wrong type, defaults on required attributes.
func (s Schema) Check() error { return s.check("") }

func (s Schema) check(prefix string) error {
	seen := map[string]bool{}
	name := func(n string) error {
		switch {
		case !identifier.MatchString(n):
			return fmt.Errorf("check schema: %q is not a valid name (lower-case letters, digits, _)", prefix+n)
		case seen[n]:
			return fmt.Errorf("check schema: %q is declared twice", prefix+n)
		}
		seen[n] = true
		return nil
	}
	for _, a := range s.Attributes {
		if err := name(a.Name); err != nil {
			return err
		}
		if !a.Type.valid() {
			return fmt.Errorf("check schema: attribute %q has unknown type %q", prefix+a.Name, a.Type)
		}
		if a.Default != nil {
			if a.Required {
				return fmt.Errorf("check schema: required attribute %q cannot have a default", prefix+a.Name)
			}
			if err := checkValue(a.Type, normalizeDefault(a.Default), prefix+a.Name); err != nil {
				return fmt.Errorf("check schema: default: %w", err)
			}
		}
	}
	for _, b := range s.Blocks {
		if err := name(b.Name); err != nil {
			return err
		}
		if b.Nesting != NestingSingle && b.Nesting != NestingList {
			return fmt.Errorf("check schema: block %q has unknown nesting %q", prefix+b.Name, b.Nesting)
		}
		if err := b.Schema.check(prefix + b.Name + "."); err != nil {
			return err
		}
	}
	return nil
}

// Normalize checks a JSON configuration object against the schema and returns
// it with defaults filled in. Problems are InvalidConfigErrors naming the
// attribute path, such as "tls.ca_file" or "endpoint[1].url".
func (s Schema) Normalize(raw json.RawMessage) (json.RawMessage, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		raw = json.RawMessage("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, InvalidConfig("", "config is not valid JSON: %v", err)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, InvalidConfig("", "config must be an object, got %s", jsonKind(v))
	}
	if err := s.normalize(obj, ""); err != nil {
		return nil, err
	}
	return json.Marshal(obj)
}

func (s Schema) normalize(obj map[string]any, prefix string) error {
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		if !s.declares(k) {
			return InvalidConfig(prefix+k, "unsupported argument; this backend accepts %s", s.names())
		}
	}
	for _, a := range s.Attributes {
		v, present := obj[a.Name]
		switch {
		case (!present || v == nil) && a.Required:
			return InvalidConfig(prefix+a.Name, "the attribute is required")
		case (!present || v == nil) && a.Default != nil:
			obj[a.Name] = a.Default
		case present && v != nil:
			if err := checkValue(a.Type, v, prefix+a.Name); err != nil {
				return err
			}
		}
	}
	for _, b := range s.Blocks {
		if err := b.normalize(obj, prefix); err != nil {
			return err
		}
	}
	return nil
}

// declares reports whether name is an attribute or block of s.
func (s Schema) declares(name string) bool {
	return slices.ContainsFunc(s.Attributes, func(a Attribute) bool { return a.Name == name }) ||
		slices.ContainsFunc(s.Blocks, func(b Block) bool { return b.Name == name })
}

func (b Block) normalize(obj map[string]any, prefix string) error {
	path := prefix + b.Name
	v := obj[b.Name]
	var items []any
	switch b.Nesting {
	case NestingSingle:
		if v != nil {
			items = []any{v}
		}
	case NestingList:
		if v != nil {
			list, ok := v.([]any)
			if !ok {
				return InvalidConfig(path, "want a list of %q blocks, got %s", b.Name, jsonKind(v))
			}
			items = list
		}
	}
	if len(items) < b.MinItems {
		return InvalidConfig(path, "at least %d %q block(s) required, found %d", b.MinItems, b.Name, len(items))
	}
	if b.MaxItems > 0 && len(items) > b.MaxItems {
		return InvalidConfig(path, "at most %d %q block(s) allowed, found %d", b.MaxItems, b.Name, len(items))
	}
	for i, item := range items {
		p := path
		if b.Nesting == NestingList {
			p = fmt.Sprintf("%s[%d]", path, i)
		}
		o, ok := item.(map[string]any)
		if !ok {
			return InvalidConfig(p, "want a block, got %s", jsonKind(item))
		}
		if err := b.Schema.normalize(o, p+"."); err != nil {
			return err
		}
	}
	return nil
}

func (s Schema) names() string {
	var names []string
	for _, a := range s.Attributes {
		names = append(names, a.Name)
	}
	for _, b := range s.Blocks {
		names = append(names, b.Name)
	}
	slices.Sort(names)
	if len(names) == 0 {
		return "no arguments"
	}
	return strings.Join(names, ", ")
}

func checkValue(t Type, v any, path string) error {
	kind, elem := t.split()
	switch kind {
	case "list":
		list, ok := v.([]any)
		if !ok {
			return InvalidConfig(path, "want %s, got %s", t, jsonKind(v))
		}
		for i, e := range list {
			if err := checkValue(elem, e, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		return nil
	case "map":
		m, ok := v.(map[string]any)
		if !ok {
			return InvalidConfig(path, "want %s, got %s", t, jsonKind(v))
		}
		for k, e := range m {
			if err := checkValue(elem, e, path+"."+k); err != nil {
				return err
			}
		}
		return nil
	}
	ok := false
	switch t {
	case TypeString:
		_, ok = v.(string)
	case TypeBool:
		_, ok = v.(bool)
	case TypeNumber:
		_, ok = v.(json.Number)
	}
	if !ok {
		return InvalidConfig(path, "want %s, got %s", t, jsonKind(v))
	}
	return nil
}

// normalizeDefault turns a Go default into the shape a JSON decode with
// UseNumber produces, so that checkValue treats both alike.
func normalizeDefault(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return v
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out any
	if dec.Decode(&out) != nil {
		return v
	}
	return out
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a bool"
	case json.Number, float64:
		return "a number"
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}
