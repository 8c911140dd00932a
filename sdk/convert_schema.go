package sdk

import (
	"encoding/json"
	"fmt"

	pb "github.com/alphaswarm/controller/sdk/internal/backendv1"
)

func schemaToPB(s Schema) (*pb.Schema, error) {
	out := &pb.Schema{}
	for _, a := range s.Attributes {
		pa := &pb.Attribute{
			Name: a.Name, Type: string(a.Type), Description: a.Description,
			Required: a.Required, Sensitive: a.Sensitive, TenantSettable: a.TenantSettable,
		}
		if a.Default != nil {
			def, err := json.Marshal(a.Default)
			if err != nil {
				return nil, fmt.Errorf("encode default of %q: %w", a.Name, err)
			}
			pa.DefaultJson = def
		}
		out.Attributes = append(out.Attributes, pa)
	}
	for _, b := range s.Blocks {
		inner, err := schemaToPB(b.Schema)
		if err != nil {
			return nil, err
		}
		out.Blocks = append(out.Blocks, &pb.NestedBlock{
			Name: b.Name, Description: b.Description, Nesting: string(b.Nesting),
			MinItems: int32(b.MinItems), MaxItems: int32(b.MaxItems), Schema: inner,
		})
	}
	return out, nil
}
