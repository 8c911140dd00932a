package topology

import (
	"fmt"
	"math/big"
	"regexp"
	"strconv"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// The argument checks of the functions that could make a huge result from
// small arguments. Unknown or null arguments pass: the function itself
// says what it makes of them.

// checkRange refuses a range() of more than MaxRange elements.
func checkRange(args []cty.Value) error {
	nums := make([]*big.Float, len(args))
	for i, a := range args {
		if !a.IsKnown() || a.IsNull() {
			return nil
		}
		nums[i] = a.AsBigFloat()
	}
	start, limit, step := big.NewFloat(0), big.NewFloat(0), big.NewFloat(1)
	switch len(nums) {
	case 1:
		limit = nums[0]
	case 2:
		start, limit = nums[0], nums[1]
	case 3:
		start, limit, step = nums[0], nums[1], nums[2]
	default:
		return nil
	}
	if step.Sign() == 0 {
		return nil
	}
	count := new(big.Float).Quo(new(big.Float).Sub(limit, start), step)
	if count.Cmp(big.NewFloat(MaxRange)) > 0 {
		return function.NewArgErrorf(len(args)-1, "range() would make %s elements; at most %d are allowed", count.Text('f', 0), MaxRange)
	}
	return nil
}

// formatVerb finds the width and precision of each verb of a format
// string.
var formatVerb = regexp.MustCompile(`%[-+# 0]*(\d*)(?:\.(\d*))?`)

// checkFormat refuses verbs whose width or precision exceeds
// MaxFormatWidth, which would pad a result to any size.
func checkFormat(args []cty.Value) error {
	if len(args) == 0 || !args[0].IsKnown() || args[0].IsNull() || args[0].Type() != cty.String {
		return nil
	}
	for _, m := range formatVerb.FindAllStringSubmatch(args[0].AsString(), -1) {
		for _, digits := range m[1:] {
			if n, err := strconv.Atoi(digits); (err == nil && n > MaxFormatWidth) || len(digits) > 4 {
				return function.NewArgErrorf(0, "a width or precision of %s; at most %d is allowed", digits, MaxFormatWidth)
			}
		}
	}
	return nil
}

// checkIndent refuses to indent by more than MaxFormatWidth spaces, or
// to make a string over MaxStringBytes.
func checkIndent(args []cty.Value) error {
	if len(args) < 2 || !known(args...) {
		return nil
	}
	spaces, _ := args[0].AsBigFloat().Int64()
	if spaces > MaxFormatWidth {
		return function.NewArgErrorf(0, "indent by %d spaces; at most %d are allowed", spaces, MaxFormatWidth)
	}
	s := args[1].AsString()
	lines := int64(1)
	for _, c := range s {
		if c == '\n' {
			lines++
		}
	}
	if size := int64(len(s)) + lines*max(spaces, 0); size > MaxStringBytes {
		return fmt.Errorf("indent() would make a string of %d bytes; at most %d are allowed", size, MaxStringBytes)
	}
	return nil
}

// checkJoin refuses a join() whose result would exceed MaxStringBytes.
func checkJoin(args []cty.Value) error {
	if len(args) < 2 || !known(args...) {
		return nil
	}
	sep := len(args[0].AsString())
	size := 0
	for _, list := range args[1:] {
		for it := list.ElementIterator(); it.Next(); {
			_, v := it.Element()
			if !v.IsKnown() || v.IsNull() {
				continue
			}
			if s, ok := stringOf(v); ok {
				size += len(s) + sep
			}
			if size > MaxStringBytes {
				return fmt.Errorf("join() would make a string of more than %d bytes", MaxStringBytes)
			}
		}
	}
	return nil
}

// checkReplace refuses a replace() whose result could exceed
// MaxStringBytes: every position of the string may match (an empty or
// regular expression substring), and each match grows by the replacement.
func checkReplace(args []cty.Value) error {
	if len(args) < 3 || !known(args...) {
		return nil
	}
	str, replacement := len(args[0].AsString()), len(args[2].AsString())
	if size := str + (str+1)*replacement; size > MaxStringBytes && replacement > 0 {
		return fmt.Errorf("replace() could make a string of %d bytes; at most %d are allowed", size, MaxStringBytes)
	}
	return nil
}

// checkJSONNesting refuses JSON nested deeper than MaxNesting, which the
// decoder would follow as deep as it goes.
func checkJSONNesting(args []cty.Value) error {
	if len(args) < 1 || !known(args[0]) {
		return nil
	}
	depth, inString, escaped := 0, false, false
	for _, c := range []byte(args[0].AsString()) {
		switch {
		case inString && escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case c == '"':
			inString = !inString
		case inString:
		case c == '[' || c == '{':
			if depth++; depth > MaxNesting {
				return function.NewArgErrorf(0, "the JSON nests more than %d deep", MaxNesting)
			}
		case c == ']' || c == '}':
			depth--
		}
	}
	return nil
}

func known(vs ...cty.Value) bool {
	for _, v := range vs {
		if !v.IsWhollyKnown() || v.IsNull() {
			return false
		}
	}
	return true
}

// stringOf is v as a string, if it is one or converts to one.
func stringOf(v cty.Value) (string, bool) {
	switch v.Type() {
	case cty.String:
		return v.AsString(), true
	case cty.Number:
		return v.AsBigFloat().Text('f', -1), true
	case cty.Bool:
		return strconv.FormatBool(v.True()), true
	}
	return "", false
}
