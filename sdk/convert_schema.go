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

func schemaFromPB(s *pb.Schema) (Schema, error) {
	var out Schema
	for _, pa := range s.GetAttributes() {
		a := Attribute{
			Name: pa.GetName(), Type: Type(pa.GetType()), Description: pa.GetDescription(),
			Required: pa.GetRequired(), Sensitive: pa.GetSensitive(), TenantSettable: pa.GetTenantSettable(),
		}
		if len(pa.GetDefaultJson()) > 0 {
			if err := json.Unmarshal(pa.GetDefaultJson(), &a.Default); err != nil {
				return Schema{}, fmt.Errorf("decode default of %q: %w", a.Name, err)
			}
		}
		out.Attributes = append(out.Attributes, a)
	}
	for _, pbk := range s.GetBlocks() {
		inner, err := schemaFromPB(pbk.GetSchema())
		if err != nil {
			return Schema{}, err
		}
		out.Blocks = append(out.Blocks, Block{
			Name: pbk.GetName(), Description: pbk.GetDescription(), Nesting: Nesting(pbk.GetNesting()),
			MinItems: int(pbk.GetMinItems()), MaxItems: int(pbk.GetMaxItems()), Schema: inner,
		})
	}
	return out, nil
}
