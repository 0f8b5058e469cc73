// Package oneline makes text safe to show on one line, for errors, output and the run ledger:
// Of folds white space and escapes control characters, Escape only escapes them.
package oneline

import (
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Stored is the longest text (before the ellipsis) that the ledger keeps of an error.
const Stored = 2000

// Of returns s with every run of white space (newlines included) replaced by one space and no
// leading or trailing space, escaped as Escape does, and cut as Cut does when n > 0.
func Of(s string, n int) string {
	s = Escape(strings.Join(strings.Fields(s), " "))
	if n > 0 {
		return Cut(s, n)
	}
	return s
}

// Escape returns s with every character that could drive a terminal, forge a line or reorder
// what is shown written as a visible escape, as Go's %q writes it without the quotes: a C0
// control (newline and tab included: "\n", "\t", "\x1b"), DEL ("\x7f"), a C1 control
// ("\u009b"), a bidirectional control ("\u202e") or a line or paragraph separator ("\u2028"),
// and a byte that is not UTF-8 ("\xff"). Everything else, a backslash included, is kept as it
// is, so s comes back unchanged when it holds none of them.
func Escape(s string) string {
	i := strings.IndexFunc(s, func(r rune) bool { return needsEscape(r) || r == utf8.RuneError })
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	b.WriteString(s[:i])
	for s = s[i:]; s != ""; {
		r, size := utf8.DecodeRuneInString(s)
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteString(`\x`)
			b.WriteString(strconv.FormatUint(uint64(s[0])|0x100, 16)[1:])
		case needsEscape(r):
			q := strconv.QuoteRuneToASCII(r) // '\x1b', '\u202e', '\n'
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteString(s[:size])
		}
		s = s[size:]
	}
	return b.String()
}

// needsEscape reports whether Escape writes character r as an escape.
func needsEscape(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) || r == '\u2028' || r == '\u2029'
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

// Duration writes d as time.Duration does without its trailing zero units, as a person writes
// it in a file or a flag: "1m", "1h", "1h30m", "90s" stays "1m30s".
func Duration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
