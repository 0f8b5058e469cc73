package db_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/evsync/evsync/db"
	"github.com/evsync/evsync/internal/entity"
)

// Add sums the six counts and keeps the rest of the receiver.
func TestScopeCountsAdd(t *testing.T) {
	t.Parallel()
	c := db.ScopeCounts{Entity: entity.Agents, Scope: "s1", Status: db.ScopeFailed, Error: "e",
		Fetched: 1, Inserted: 2, Updated: 3, Unchanged: 4, Deleted: 5, Restored: 6}
	c.Add(db.ScopeCounts{Entity: entity.Users, Scope: "all", Status: db.ScopeSucceeded, Error: "other",
		Fetched: 10, Inserted: 20, Updated: 30, Unchanged: 40, Deleted: 50, Restored: 60})
	want := db.ScopeCounts{Entity: entity.Agents, Scope: "s1", Status: db.ScopeFailed, Error: "e",
		Fetched: 11, Inserted: 22, Updated: 33, Unchanged: 44, Deleted: 55, Restored: 66}
	if diff := cmp.Diff(want, c); diff != "" {
		t.Errorf("Add (-want +got):\n%s", diff)
	}
}
