// Package httpaccept reads HTTP Accept headers (RFC 9110 §12.5.1), for the fake's content
// negotiation and the spec validator's check of it: one reading for both.
package httpaccept

import (
	"strconv"
	"strings"
)

// Admits reports whether the Accept header values admit the media type ("text/plain"): no
// header (or only empty ones) admits everything; otherwise some range type/sub, type/* or */*
// must match with a q other than 0. Parameters of mediaType are ignored.
func Admits(values []string, mediaType string) bool {
	mt, _, _ := strings.Cut(mediaType, ";")
	typ, sub, _ := strings.Cut(strings.ToLower(strings.TrimSpace(mt)), "/")
	seen := false
	for _, v := range values {
		for rng := range strings.SplitSeq(v, ",") {
			params := strings.Split(rng, ";")
			want := strings.ToLower(strings.TrimSpace(params[0]))
			if want == "" {
				continue
			}
			seen = true
			wt, ws, _ := strings.Cut(want, "/")
			matches := (wt == "*" && ws == "*") || (wt == typ && (ws == "*" || ws == sub))
			if matches && !zeroQ(params[1:]) {
				return true
			}
		}
	}
	return !seen
}

// zeroQ reports whether media-range parameters carry q=0 (q=0, 0.0, 0.000: not acceptable).
func zeroQ(params []string) bool {
	for _, p := range params {
		k, v, _ := strings.Cut(p, "=")
		if strings.EqualFold(strings.TrimSpace(k), "q") {
			q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return err == nil && q == 0
		}
	}
	return false
}
