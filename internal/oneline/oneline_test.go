package oneline

import (
	"strings"
	"testing"
	"time"
	"unicode"
)

func TestOf(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"a\n  b\tc ", 0, "a b c"},
		{"  ", 0, ""},
		{"abcdef", 4, "abcd…"},
		{"abc", 3, "abc"},
		{"añb", 2, "a…"}, // ñ is two bytes: never cut inside a rune
		{"x\ny", 10, "x y"},
		// Text from upstream (an API error's message, a JSON key) cannot drive a terminal
		// or forge a line: white space is folded, every other control character escaped.
		{"red \x1b[31mtext\x1b[0m", 0, `red \x1b[31mtext\x1b[0m`},
		{"title \x1b]0;pwned\x07 bell", 0, `title \x1b]0;pwned\a bell`},
		{"msg\ntime=2026-01-01 level=ERROR msg=forged", 0, "msg time=2026-01-01 level=ERROR msg=forged"},
		{"abc\u202edef", 0, `abc\u202edef`},
		{"csi \u009b31m c1", 0, `csi \u009b31m c1`},
		{"a\u2028b\u2029c\r\nd", 0, "a b c d"},
		{"\x1b\x1b\x1b", 5, `\x1b\…`},
	}
	for _, tt := range tests {
		if got := Of(tt.in, tt.max); got != tt.want {
			t.Errorf("Of(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
		}
	}
}

func TestEscape(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
	}{
		{"plain text, ñ and 日本 and U+FFFD \ufffd", "plain text, ñ and 日本 and U+FFFD \ufffd"},
		{`a back\slash stays`, `a back\slash stays`},
		{"\x00\x01\a\b\t\n\v\f\r\x1b\x1f\x7f", `\x00\x01\a\b\t\n\v\f\r\x1b\x1f\x7f`},
		{"\u0080\u0085\u009b\u009f\u00a0", `\u0080\u0085\u009b\u009f` + "\u00a0"},
		{"\u200e\u200f\u202a\u202b\u202c\u202d\u202e", `\u200e\u200f\u202a\u202b\u202c\u202d\u202e`},
		{"\u2066\u2067\u2068\u2069\u2028\u2029", `\u2066\u2067\u2068\u2069\u2028\u2029`},
		{"bad \xff\x9b utf-8", `bad \xff\x9b utf-8`},
		{"key.\x1b]8;;http://x\x1b\\link", `key.\x1b]8;;http://x\x1b\link`},
	}
	for _, tt := range tests {
		if got := Escape(tt.in); got != tt.want {
			t.Errorf("Escape(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestEscapeLeavesNoControl checks every rune up to U+FFFF: what Escape returns holds no
// control character (C0, DEL, C1), no bidi control and no line or paragraph separator.
func TestEscapeLeavesNoControl(t *testing.T) {
	t.Parallel()
	for r := rune(0); r <= 0xffff; r++ {
		if r >= 0xd800 && r <= 0xdfff {
			continue
		}
		out := Escape("<" + string(r) + ">")
		for _, c := range out {
			if unicode.IsControl(c) || unicode.Is(unicode.Bidi_Control, c) || c == '\u2028' || c == '\u2029' {
				t.Fatalf("Escape(%U) = %q keeps %U", r, out, c)
			}
		}
		if !strings.HasPrefix(out, "<") || !strings.HasSuffix(out, ">") {
			t.Fatalf("Escape(%U) = %q", r, out)
		}
	}
}

func TestDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{time.Minute: "1m", time.Hour: "1h", 90 * time.Minute: "1h30m",
		90 * time.Second: "1m30s", 15 * time.Second: "15s", 24 * time.Hour: "24h"} {
		if got := Duration(d); got != want {
			t.Errorf("Duration(%v) = %q, want %q", d, got, want)
		}
	}
}
