package sdk

import (
	"encoding/json"
	"fmt"

	"github.com/alphaswarm/controller/sdk/internal/wire"
)

// ProtocolVersion is the version of the plugin protocol this SDK speaks.
const ProtocolVersion = 1

// The host's side agrees with these constants, or this does not compile.
var (
	_ = [1]struct{}{}[wire.ProtocolVersion-ProtocolVersion]
	_ = [1]struct{}{}[wire.MaxMessageBytes-MaxMessageBytes]
)

// InfoResponse describes a backend: its name (the word after "backend" in a
// topology file), its version, and the schema of its configuration block.
// The host learns the rest (the protocol and the capabilities, read from the
// interfaces the backend implements) from the SDK.
type InfoResponse struct {
	Name         string
	Version      string
	Description  string
	ConfigSchema Schema
}

// ConfigureRequest carries one backend instance's configuration.
type ConfigureRequest struct {
	// Instance is the instance name from the topology, as in
	// backend "compose" "local" (Instance is "local").
	Instance string
	// Config is a JSON object that matches the backend's schema, with defaults
	// filled in. Sensitive attributes hold their resolved values: never log it.
	Config json.RawMessage
}

// Decode unmarshals the configuration into v, a pointer to a struct with json
// tags. A field the struct does not have, or a value of the wrong type, is
// reported as an InvalidConfigError naming the attribute.
func (r *ConfigureRequest) Decode(v any) error { return DecodeConfig(r.Config, v) }

// ConfigureResponse is empty; it exists so fields can be added later.
type ConfigureResponse struct{}

// String keeps configuration values out of logs.
func (r ConfigureRequest) String() string {
	return fmt.Sprintf("ConfigureRequest{Instance: %q, Config: <%d bytes>}", r.Instance, len(r.Config))
}
