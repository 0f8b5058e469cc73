package oneline

import "testing"

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
	}
	for _, tt := range tests {
		if got := Of(tt.in, tt.max); got != tt.want {
			t.Errorf("Of(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
		}
	}
}
