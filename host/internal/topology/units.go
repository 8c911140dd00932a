package topology

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/alphaswarm/controller/core"
)

var sizeUnits = map[string]float64{
	"": 1, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12,
	"Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30, "Ti": 1 << 40,
}

var sizePattern = regexp.MustCompile(`^([0-9]+(?:\.[0-9]+)?)\s*([KMGT]i?)?$`)

// parseSize reads a memory size: a number of bytes, or a string such as
// "256Mi" (binary units) or "1G" (decimal units).
func parseSize(v cty.Value) (int64, error) {
	if v.Type() == cty.Number {
		f, _ := v.AsBigFloat().Float64()
		if f < 0 || f != math.Trunc(f) {
			return 0, fmt.Errorf("%v is not a whole number of bytes", f)
		}
		return int64(f), nil
	}
	s, err := convert.Convert(v, cty.String)
	if err != nil {
		return 0, fmt.Errorf("want a size such as \"256Mi\" or a number of bytes")
	}
	m := sizePattern.FindStringSubmatch(strings.TrimSpace(s.AsString()))
	if m == nil {
		return 0, fmt.Errorf("%q is not a size: use a number with Ki, Mi, Gi, Ti (powers of 1024) or K, M, G, T (powers of 1000), such as \"256Mi\"", s.AsString())
	}
	n, _ := strconv.ParseFloat(m[1], 64)
	return int64(n * sizeUnits[m[2]]), nil
}

// parseDuration reads a Go duration string such as "5s" or "1m30s".
func parseDuration(v cty.Value) (core.Duration, error) {
	s, err := convert.Convert(v, cty.String)
	if err != nil || s.Type() != cty.String {
		return 0, fmt.Errorf("want a duration such as \"5s\"")
	}
	d, err := time.ParseDuration(s.AsString())
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q is not a duration: use a number with ms, s, m or h, such as \"5s\" or \"1m30s\"", s.AsString())
	}
	return core.Duration(d), nil
}

// imageReference is the grammar of an image reference:
// [host[:port]/]path[:tag][@digest], path components lower case.
var imageReference = regexp.MustCompile(`^` +
	`(?:(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:]+\])(?::[0-9]+)?/)?` +
	`[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*` +
	`(?::[\w][\w.-]{0,127})?` +
	`(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$`)

func checkImage(s string) error {
	if !imageReference.MatchString(s) {
		return fmt.Errorf("%q is not an image reference such as \"registry.example.com/team/api:1.4.2\" (lower-case names, optional tag and digest)", s)
	}
	return nil
}

// attrDiag makes an error diagnostic about one attribute.
func attrDiag(attr *hcl.Attribute, summary string, err error) *hcl.Diagnostic {
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: capitalize(err.Error()) + ".",
		Subject: attr.Expr.Range().Ptr(), Context: attr.Range.Ptr()}
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
