package topology

import (
	"bytes"

	"github.com/hashicorp/hcl/v2"
)

// scanLimits reads src once, byte by byte, before the parser does, and
// measures what the parser would follow as deep as it goes: how deep
// brackets, braces, parentheses, quotes, heredocs and interpolations nest,
// and how many '!' and '-' come in a row (blanks and newlines between them
// do not count). It also counts tokens, roughly: a run of letters and
// digits, a punctuation mark, a piece of string. It is much cheaper than
// the lexer, since it keeps nothing but counters and the stack of what it
// is inside.
type scanLimits struct {
	src                       []byte
	file                      string
	i, line, col              int
	depth, maxDepth, unary    int
	tokens                    int
	deepAt, unaryAt           hcl.Pos
	stack                     []scanCtx
	inWord                    bool
	maxDepthLimit, unaryLimit int
}

// scanCtx is what the scanner is inside: code (top level, or an
// interpolation, which a '}' at its own level closes), a quoted string, or
// a heredoc with its closing marker.
type scanCtx struct {
	kind   byte // 'c' code, 'i' interpolation, 'q' quoted, 'h' heredoc
	braces int  // braces opened inside an interpolation
	marker []byte
}

func newScan(src []byte, file string, depthLimit, unaryLimit int) *scanLimits {
	return &scanLimits{src: src, file: file, line: 1, col: 1, stack: []scanCtx{{kind: 'c'}},
		maxDepthLimit: depthLimit, unaryLimit: unaryLimit}
}

// pos is where the scanner is, for a diagnostic.
func (s *scanLimits) pos() hcl.Pos { return hcl.Pos{Line: s.line, Column: s.col, Byte: s.i} }

// rng is a one-character range at p.
func (s *scanLimits) rng(p hcl.Pos) hcl.Range {
	end := p
	end.Column++
	end.Byte++
	return hcl.Range{Filename: s.file, Start: p, End: end}
}

func (s *scanLimits) advance(n int) {
	for ; n > 0 && s.i < len(s.src); n-- {
		if s.src[s.i] == '\n' {
			s.line, s.col = s.line+1, 1
		} else {
			s.col++
		}
		s.i++
	}
}

func (s *scanLimits) at(off int) byte {
	if s.i+off < len(s.src) {
		return s.src[s.i+off]
	}
	return 0
}

// deeper goes one level deeper and reports when that is too deep;
// shallower comes back up.
func (s *scanLimits) deeper() bool {
	s.depth++
	s.tokens++
	if s.depth > s.maxDepth {
		s.maxDepth, s.deepAt = s.depth, s.pos()
	}
	return s.depth > s.maxDepthLimit
}

func (s *scanLimits) shallower() {
	s.depth = max(s.depth-1, 0)
	s.tokens++
}

// open enters a context one level deeper; close leaves it.
func (s *scanLimits) open(c scanCtx) bool {
	s.stack = append(s.stack, c)
	return s.deeper()
}

func (s *scanLimits) close() {
	if len(s.stack) > 1 {
		s.stack = s.stack[:len(s.stack)-1]
	}
	s.shallower()
}

// run scans src to its end, or until a limit is passed; it reports which.
func (s *scanLimits) run() (tooDeep, tooManyUnary bool) {
	for s.i < len(s.src) {
		top := &s.stack[len(s.stack)-1]
		var stop bool
		switch top.kind {
		case 'q':
			stop = s.quoted()
		case 'h':
			stop = s.heredoc(top)
		default:
			stop, tooManyUnary = s.code(top)
		}
		if stop {
			return !tooManyUnary, tooManyUnary
		}
	}
	return false, false
}

// code scans one step of code.
func (s *scanLimits) code(top *scanCtx) (stop, tooManyUnary bool) {
	c := s.src[s.i]
	word := c == '_' || c == '.' && s.inWord || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
	if word && !s.inWord {
		s.tokens++
	}
	s.inWord = word
	switch {
	case c == ' ' || c == '\t' || c == '\r' || c == '\n':
		s.advance(1)
		return false, false
	case c == '!' || c == '-':
		s.tokens++
		if s.unary++; s.unary > s.unaryLimit {
			s.unaryAt = s.pos()
			return true, true
		}
		s.advance(1)
		return false, false
	}
	s.unary = 0
	switch {
	case c == '#' || c == '/' && s.at(1) == '/':
		for s.i < len(s.src) && s.src[s.i] != '\n' {
			s.advance(1)
		}
		return false, false
	case c == '/' && s.at(1) == '*':
		end := bytes.Index(s.src[s.i+2:], []byte("*/"))
		if end < 0 {
			end = len(s.src) - s.i - 2
		}
		s.advance(end + 4)
		return false, false
	case c == '"':
		stop = s.open(scanCtx{kind: 'q'})
	case c == '<' && s.at(1) == '<' && s.heredocStart():
		return false, false
	case c == '{' || c == '[' || c == '(':
		if c == '{' {
			top.braces++
		}
		stop = s.deeper()
	case c == '}' && top.kind == 'i' && top.braces == 0:
		s.close()
	case c == '}' || c == ']' || c == ')':
		if c == '}' {
			top.braces--
		}
		s.shallower()
	case !word:
		s.tokens++
	}
	s.advance(1)
	return stop, false
}

// heredocStart opens a heredoc at "<<MARKER" or "<<-MARKER" and a newline,
// and reports whether there was one.
func (s *scanLimits) heredocStart() bool {
	j := s.i + 2
	if j < len(s.src) && s.src[j] == '-' {
		j++
	}
	start := j
	for j < len(s.src) && (s.src[j] == '_' || s.src[j] >= '0' && s.src[j] <= '9' || s.src[j] >= 'a' && s.src[j] <= 'z' || s.src[j] >= 'A' && s.src[j] <= 'Z') {
		j++
	}
	if j == start || j >= len(s.src) || (s.src[j] != '\n' && s.src[j] != '\r') {
		return false
	}
	marker := s.src[start:j]
	s.open(scanCtx{kind: 'h', marker: marker})
	s.advance(j - s.i)
	return true
}

// quoted scans one step of a quoted string.
func (s *scanLimits) quoted() bool {
	switch c := s.src[s.i]; {
	case c == '\\':
		s.advance(2)
	case c == '"':
		s.close()
		s.advance(1)
	default:
		return s.interpolation(c)
	}
	return false
}

// heredoc scans one step of a heredoc: a line that is its marker ends it.
func (s *scanLimits) heredoc(top *scanCtx) bool {
	if s.src[s.i] == '\n' {
		s.advance(1)
		end := bytes.IndexByte(s.src[s.i:], '\n')
		if end < 0 {
			end = len(s.src) - s.i
		}
		if bytes.Equal(bytes.TrimSpace(s.src[s.i:s.i+end]), top.marker) {
			s.close()
			s.advance(end)
		}
		return false
	}
	return s.interpolation(s.src[s.i])
}

// interpolation opens "${" or "%{" inside a string; "$${" and "%%{" are
// escapes for the characters themselves. Other bytes are the string's.
func (s *scanLimits) interpolation(c byte) bool {
	if (c == '$' || c == '%') && s.at(1) == c && s.at(2) == '{' {
		s.advance(3)
		return false
	}
	if (c == '$' || c == '%') && s.at(1) == '{' {
		s.inWord = false
		stop := s.open(scanCtx{kind: 'i'})
		s.advance(2)
		return stop
	}
	s.advance(1)
	return false
}
