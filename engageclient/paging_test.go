package engageclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// idsJSON is an assigned-agents array of the agents with these ids.
func idsJSON(ids []int) string {
	var items []string
	for _, id := range ids {
		items = append(items, fmt.Sprintf(`{"agentId":%d,"username":"agent%d@example.com"}`, id, id))
	}
	return "[" + strings.Join(items, ",") + "]"
}

// pageServer answers a paged listing with the ids pageIDs gives for the nth request (from 0)
// of page page with maxRows rows.
func pageServer(pageIDs func(n, page, rows int) []int) http.HandlerFunc {
	var reqs atomic.Int64
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		page, _ := strconv.Atoi(q.Get("page"))
		rows, _ := strconv.Atoi(q.Get("maxRows"))
		fmt.Fprint(w, idsJSON(pageIDs(int(reqs.Add(1)-1), page, rows)))
	}
}

// idSpan is ids[lo:hi] with the bounds clamped to ids.
func idSpan(ids []int, lo, hi int) []int {
	lo, hi = min(max(lo, 0), len(ids)), min(max(hi, 0), len(ids))
	return ids[lo:hi]
}

// seq is the ids from..to-1.
func seq(from, to int) []int {
	var out []int
	for id := from; id < to; id++ {
		out = append(out, id)
	}
	return out
}

// A server that does not page as assumed (page taken as 0-based, a page of maxRows items,
// the same order on every request) fails the listing: a page that repeats an item of an
// earlier page ends it with an error naming the listing, the endpoint and the page, and no
// items, so its scope fails and nothing is deleted. Before, such a listing ended as complete
// with the items seen so far (4 of the 10 agents, say), and the others were deleted.
func TestPagingNotAsAssumed(t *testing.T) {
	t.Parallel()
	ten := seq(1, 11)
	tests := []struct {
		name     string
		pageIDs  func(n, page, rows int) []int
		wantPage int // the page whose repeat fails the listing
	}{
		{"ignores page", func(_, _, rows int) []int { return idSpan(ten, 0, rows) }, 1},
		{"ignores page and maxRows", func(_, _, _ int) []int { return ten }, 1},
		{"counts from 1, page 0 read as page 1", func(_, page, rows int) []int {
			p := max(page, 1) - 1
			return idSpan(ten, p*rows, (p+1)*rows)
		}, 1},
		{"repeats a page", func(_, page, rows int) []int {
			if page == 2 {
				page = 1
			}
			return idSpan(ten, page*rows, (page+1)*rows)
		}, 2},
		{"unstable order, repeat on a full page", func(n, page, rows int) []int {
			order := append(idSpan(ten, 3*n%10, 10), idSpan(ten, 0, 3*n%10)...) // rotated by 3 per request
			return idSpan(order, page*rows, (page+1)*rows)
		}, 1},
		{"unstable order, repeat on the short last page", func(n, page, rows int) []int {
			order := append(idSpan(ten, n%10, 10), idSpan(ten, 0, n%10)...) // rotated by 1 per request
			return idSpan(order, page*rows, (page+1)*rows)
		}, 2},
	}
	for _, l := range assignedListings {
		for _, tt := range tests {
			t.Run(l.name+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				s := newListServer(t, pageServer(tt.pageIDs))
				got, resp, err := l.call(t.Context(), s.c, "20001", &ListOptions{MaxRows: 4})
				s.err(err)
				if err == nil || !errors.Is(err, ErrPagingNotAsAssumed) {
					t.Fatalf("got %d agents, err = %v; want an error matching ErrPagingNotAsAssumed", len(got), err)
				}
				var ie *ItemsError
				if errors.As(err, &ie) || IsRetryable(err) || got != nil {
					t.Errorf("got %d agents, err = %v (%T); want none, and an error that is neither an item error nor retryable", len(got), err, err)
				}
				for _, want := range []string{fmt.Sprintf("(page %d)", tt.wantPage), "GET " + l.path, "0-based"} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("err = %q, want it to contain %q", err, want)
					}
				}
				if resp == nil || resp.Pages != tt.wantPage+1 {
					t.Errorf("resp = %+v, want Pages %d", resp, tt.wantPage+1)
				}
			})
		}
	}
}

// An agent listed twice on one page is not a paging fault: it is returned once.
func TestPagingDuplicateWithinAPage(t *testing.T) {
	t.Parallel()
	s := newListServer(t, pageServer(func(_, page, _ int) []int {
		return [][]int{{1, 2, 2}, {3}}[min(page, 1)]
	}))
	got, _, err := s.c.ListGateAssignedAgents(t.Context(), "20001", 52001, 72001, &ListOptions{MaxRows: 3})
	if err != nil {
		t.Fatal(s.err(err))
	}
	var ids []int64
	for _, a := range got {
		ids = append(ids, a.AgentID)
	}
	if diff := cmp.Diff([]int64{1, 2, 3}, ids); diff != "" {
		t.Errorf("agent ids (-want +got):\n%s", diff)
	}
}

// A listing longer than Config.MaxListingRows fails, paged or not: a server that keeps sending
// new ids ends the listing (its scope) at the bound instead of looping until the run's
// deadline. Up to the bound, the listing is whole.
func TestListingRowsBound(t *testing.T) {
	t.Parallel()
	endless := func(_, page, rows int) []int { return seq(page*rows+1, (page+1)*rows+1) }
	tests := []struct {
		name      string
		pageIDs   func(n, page, rows int) []int
		opts      *ListOptions
		max       int
		wantN     int // agents returned when no error
		wantPage  int // the page past the bound; -1: unpaged
		wantError bool
	}{
		{name: "endless pages", pageIDs: endless, opts: &ListOptions{MaxRows: 4}, max: 10, wantPage: 2, wantError: true},
		{name: "exactly the bound", pageIDs: func(_, page, rows int) []int { return idSpan(seq(1, 13), page*rows, (page+1)*rows) },
			opts: &ListOptions{MaxRows: 4}, max: 12, wantN: 12},
		{name: "unpaged, past the bound", pageIDs: func(_, _, _ int) []int { return seq(1, 12) }, max: 10, wantPage: -1, wantError: true},
		{name: "unpaged, at the bound", pageIDs: func(_, _, _ int) []int { return seq(1, 11) }, max: 10, wantN: 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newListServer(t, pageServer(tt.pageIDs), func(c *Config) { c.MaxListingRows = tt.max })
			// The deadline only bounds a failure: an unbounded listing would loop until it.
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			got, _, err := s.c.ListDialGroupAssignedAgents(ctx, "20001", 115001, tt.opts)
			s.err(err)
			if !tt.wantError {
				if err != nil || len(got) != tt.wantN {
					t.Fatalf("got %d agents, err = %v; want %d and no error", len(got), err, tt.wantN)
				}
				return
			}
			if !errors.Is(err, ErrListingTooLong) || got != nil || IsRetryable(err) {
				t.Fatalf("got %d agents, err = %v; want none and an error matching ErrListingTooLong, not retryable", len(got), err)
			}
			wants := []string{"listing agents assigned to dial group 115001", fmt.Sprintf("more than %d", tt.max), "engage.max_listing_rows"}
			if tt.wantPage >= 0 {
				wants = append(wants, fmt.Sprintf("(page %d)", tt.wantPage))
			}
			for _, want := range wants {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("err = %q, want it to contain %q", err, want)
				}
			}
		})
	}
}

// MaxListingRows defaults to MaxListingRowsDefault and must not be negative.
func TestMaxListingRowsConfig(t *testing.T) {
	t.Parallel()
	cfg := Config{ClientID: "id", ClientSecret: "secret", JWT: "jwt"}
	if got := cfg.WithDefaults().MaxListingRows; got != 1_000_000 {
		t.Errorf("default MaxListingRows = %d, want %d (1,000,000)", got, MaxListingRowsDefault)
	}
	cfg.MaxListingRows = -1
	if _, err := New(cfg); err == nil || !strings.Contains(err.Error(), "Config.MaxListingRows") {
		t.Errorf("New with MaxListingRows -1: err = %v, want one naming Config.MaxListingRows", err)
	}
}
