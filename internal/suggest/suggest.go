// Package suggest finds the known name nearest to a mistyped one, for the "did you mean"
// of unknown flags, keys and variables. It uses the standard library only.
package suggest

import "strings"

// Distance is the Levenshtein distance between a and b, counted in bytes: the number of
// single-byte insertions, deletions and substitutions that turn a into b.
func Distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// Closest returns the candidate nearest to name, ignoring case, or "" when none is close: a
// candidate is close when it is at most MaxDistance(name) edits away, or when name is the
// start of it and of no other candidate. Of equally near candidates the first wins.
func Closest(name string, candidates []string) string {
	lower := strings.ToLower(name)
	best, bestDist := "", MaxDistance(name)+1
	prefixed, prefixes := "", 0
	for _, c := range candidates {
		lc := strings.ToLower(c)
		if lc == lower {
			continue // the name itself is no suggestion
		}
		if d := Distance(lower, lc); d < bestDist {
			best, bestDist = c, d
		}
		if lower != "" && strings.HasPrefix(lc, lower) {
			prefixed, prefixes = c, prefixes+1
		}
	}
	if best == "" && prefixes == 1 {
		return prefixed
	}
	return best
}

// MaxDistance is how many edits away from name a candidate may be to count as close: 2, or a
// third of name's length for names longer than 6, so that a short name does not match every
// other short name.
func MaxDistance(name string) int {
	return max(2, len(name)/3)
}
