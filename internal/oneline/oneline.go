// Package oneline flattens text to one line, for errors, log lines and the run ledger.
package oneline

import (
	"strings"
	"unicode/utf8"
)

// Stored is the longest text (before the ellipsis) that the ledger keeps of an error.
const Stored = 2000

// Of returns s with every run of white space (newlines included) replaced by one space and no
// leading or trailing space, cut as Cut does when n > 0.
func Of(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if n > 0 {
		return Cut(s, n)
	}
	return s
}

// Cut returns s cut to at most n bytes at a rune boundary, followed by "…" when it was cut.
func Cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
