package aws_test

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
)

// checkIAMPolicy checks that iam-policy.json, the least-privilege policy
// docs/aws.md gives operators, allows every AWS operation the tests made
// the plugin call (as the emulator counted them), and that each tagged
// create has the TagResource it needs. TestMain runs it after the tests.
func checkIAMPolicy(ops []string) error {
	raw, err := os.ReadFile("iam-policy.json")
	if err != nil {
		return fmt.Errorf("read policy: %w", err)
	}
	var policy struct {
		Statement []struct {
			Action json.RawMessage
		}
	}
	if err := json.Unmarshal(raw, &policy); err != nil {
		return fmt.Errorf("decode policy: %w", err)
	}
	var allowed []string
	for _, st := range policy.Statement {
		var one string
		var many []string
		if json.Unmarshal(st.Action, &one) == nil {
			many = []string{one}
		} else if err := json.Unmarshal(st.Action, &many); err != nil {
			return fmt.Errorf("decode policy action %s: %w", st.Action, err)
		}
		allowed = append(allowed, many...)
	}
	var missing []string
	for _, op := range ops {
		action := strings.Replace(strings.Replace(op, "monitoring.", "cloudwatch.", 1), ".", ":", 1)
		if action == "sts:AssumeRoleWithWebIdentity" {
			// Unsigned: no identity policy allows it, the role's trust
			// policy does, and docs/aws.md gives that one.
			doc, err := os.ReadFile("../../docs/aws.md")
			if err != nil || !strings.Contains(string(doc), `"Action": "sts:AssumeRoleWithWebIdentity"`) {
				missing = append(missing, action+" (in the trust policy of docs/aws.md)")
			}
			continue
		}
		if !slices.Contains(allowed, action) {
			missing = append(missing, action)
		}
	}
	for _, tagged := range []string{"ecs:TagResource", "logs:TagResource", "secretsmanager:TagResource", "servicediscovery:TagResource", "elasticloadbalancing:AddTags"} {
		if !slices.Contains(allowed, tagged) {
			missing = append(missing, tagged+" (creating tagged resources needs it)")
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("iam-policy.json does not allow what the plugin called: %v", missing)
	}
	return nil
}
