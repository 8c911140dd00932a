package topology

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/alphaswarm/controller/sdk"
)

// ConfigDiagnostic points a plugin's diagnostic about a configuration (from
// ValidateConfig, whose Path names an attribute such as "tls.ca_file") at
// that attribute in body, a backend's configuration declared at declRange.
// An error names the plugin and the attribute: "The kubernetes plugin
// rejects namespace: ...".
func ConfigDiagnostic(plugin string, body hcl.Body, declRange hcl.Range, d sdk.Diagnostic) *hcl.Diagnostic {
	rng := BodyRange(body, declRange, d.Path)
	where := d.Path
	if where == "" {
		where = "the block"
	}
	if d.Severity != sdk.SeverityWarning {
		detail := fmt.Sprintf("The %s plugin rejects %s: %s.", plugin, where, strings.TrimSuffix(d.Summary, "."))
		if d.Detail != "" {
			detail += " " + d.Detail
		}
		return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid backend configuration", Detail: detail, Subject: &rng}
	}
	detail := d.Detail
	if d.Path != "" {
		detail = strings.TrimSpace(fmt.Sprintf("%s (%s, reported by the %s plugin)", detail, d.Path, plugin))
	}
	summary := d.Summary
	if summary != "" {
		summary = strings.ToUpper(summary[:1]) + summary[1:]
	}
	return &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: summary, Detail: detail, Subject: &rng}
}
