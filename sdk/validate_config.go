package sdk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// ConfigValidator is the optional interface of a backend that checks its
// configuration offline, as terraform validate has a provider do with
// ValidateProviderConfig beside ConfigureProvider. swarmctl validate and the
// host's start call it on a plugin process that is never configured and
// gets no environment: nothing in it may reach the backend, read
// credentials, or look at files or variables of the machine.
//
// Share the checks with Configure: decode and check the configuration in
// one function that both call, so that what validate accepts, Configure
// accepts too (up to what only the backend can tell).
//
// Implementing it also promises that Validate works on a process that was
// never configured, from the configuration in ValidateRequest.Config; the
// SDK declares both to the host (offline validation), and the host then
// checks deployments offline too. A backend that does not implement it gets
// its configuration checked against its schema only, and the host warns
// that its own checks were skipped until plan configures it.
type ConfigValidator interface {
	// ValidateConfig checks a configuration already checked against the
	// schema, with defaults filled in. Return an InvalidConfigError for a
	// problem (it becomes an error diagnostic at its attribute), or
	// diagnostics for several; any other error means the check itself
	// failed.
	ValidateConfig(ctx context.Context, req *ValidateConfigRequest) (*ValidateConfigResponse, error)
}

// ValidateConfigRequest carries a backend instance's configuration to check
// offline.
type ValidateConfigRequest struct {
	// Instance is the instance name, as in ConfigureRequest.
	Instance string
	// Config is the configuration as Configure would receive it, except that
	// each attribute in Unknown holds a placeholder of its type.
	Config json.RawMessage
	// Unknown lists the attributes whose values are not known yet, such as
	// the credentials an operator names, which the host resolves only when
	// it configures an instance. They are set: check that, never their
	// values.
	Unknown Unknown
}

// Decode unmarshals the configuration into v, as ConfigureRequest.Decode.
func (r *ValidateConfigRequest) Decode(v any) error { return DecodeConfig(r.Config, v) }

// String keeps configuration values out of logs.
func (r ValidateConfigRequest) String() string {
	return fmt.Sprintf("ValidateConfigRequest{Instance: %q, Config: <%d bytes>, Unknown: %q}", r.Instance, len(r.Config), []string(r.Unknown))
}

// ValidateConfigResponse lists what is wrong with a configuration. A
// diagnostic's Path names an attribute of the configuration ("tls.ca_file"),
// as InvalidConfigError.Path does.
type ValidateConfigResponse struct {
	Diagnostics []Diagnostic
}

// Unknown is a set of configuration attribute paths whose values are not
// known yet, spelled as InvalidConfigError paths: "kubeconfig_data",
// "tls.key_file", "fault[1].op". The nil set holds nothing, as in a
// Configure call.
type Unknown []string

// Has reports whether the value at path is unknown: path is in the set, or
// lies inside a block or collection that is.
func (u Unknown) Has(path string) bool {
	for _, p := range u {
		if path == p || strings.HasPrefix(path, p+".") || strings.HasPrefix(path, p+"[") {
			return true
		}
	}
	return false
}

// DecodeConfig unmarshals a configuration (of ConfigureRequest or
// ValidateConfigRequest) into v, a pointer to a struct with json tags. A
// field the struct does not have, or a value of the wrong type, is reported
// as an InvalidConfigError naming the attribute.
func DecodeConfig(raw json.RawMessage, v any) error {
	if len(raw) == 0 {
		raw = json.RawMessage("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return InvalidConfig(te.Field, "want %s, got %s", te.Type, te.Value)
		}
		return InvalidConfig("", "decode config: %v", err)
	}
	return nil
}

// configDiagnostics turns what a ValidateConfig returned into diagnostics:
// an InvalidConfigError is one at its attribute.
func configDiagnostics(resp *ValidateConfigResponse, err error) ([]Diagnostic, error) {
	var invalid *InvalidConfigError
	switch {
	case errors.As(err, &invalid):
		return []Diagnostic{{Severity: SeverityError, Summary: invalid.Message, Path: invalid.Path}}, nil
	case err != nil:
		return nil, err
	case resp == nil:
		return nil, nil
	}
	return resp.Diagnostics, nil
}
