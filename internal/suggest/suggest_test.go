package suggest_test

import (
	"testing"

	"github.com/evsync/evsync/internal/suggest"
)

func TestDistance(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"", "abc", 3},
		{"abc", "", 3},
		{"sync", "sync", 0},
		{"synk", "sync", 1},
		{"dry-rn", "dry-run", 1},
		{"kitten", "sitting", 3},
		{"status", "sttaus", 2},
	}
	for _, tt := range tests {
		if got := suggest.Distance(tt.a, tt.b); got != tt.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := suggest.Distance(tt.b, tt.a); got != tt.want {
			t.Errorf("Distance(%q, %q) = %d, want %d (symmetric)", tt.b, tt.a, got, tt.want)
		}
	}
}

func TestClosest(t *testing.T) {
	t.Parallel()
	flags := []string{"tenant", "entities", "sub-account", "dry-run", "allow-mass-delete", "no-migrate", "config", "log-level", "log-format", "version", "help"}
	tests := []struct {
		name string
		want string
	}{
		{"dry-rn", "dry-run"},
		{"DRY-RUN", ""}, // the name itself, in another case, is no suggestion
		{"tenants", "tenant"},
		{"entites", "entities"},
		{"log-levl", "log-level"},
		{"log-formt", "log-format"},
		{"confg", "config"},
		{"allow-mass-deletes", "allow-mass-delete"},
		{"allow", "allow-mass-delete"}, // the start of one candidate only
		{"log", ""},                    // the start of two
		{"bogus", ""},
		{"x", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := suggest.Closest(tt.name, flags); got != tt.want {
			t.Errorf("Closest(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
	if got := suggest.Closest("ab", []string{"ax", "ay"}); got != "ax" {
		t.Errorf("Closest of a tie = %q, want the first, %q", got, "ax")
	}
}
