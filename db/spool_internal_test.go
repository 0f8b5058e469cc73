package db

import (
	"os"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// The spool gives back every value a staged row can hold exactly as written, records in
// order, and the edges of what Postgres holds survive (times beyond int64 microseconds since
// 1970 included).
func TestSpoolRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		recs []spoolRecord
	}{
		{"none", nil},
		{"every kind of value", []spoolRecord{
			{kind: spoolRows, ent: 4, rows: [][]any{
				{"20001", int64(100004), nil, "Ünïcode \uFFFD", true, false, int64(-1 << 63), int64(1<<63 - 1),
					time.Date(2020, 5, 18, 19, 22, 12, 123456000, time.UTC), pgMinTime, pgMaxTime,
					[]string{"ADMIN", ""}, []string{}, []byte(`{"a":1}`), []byte{}, "i"},
				{"", int64(0), nil, nil, nil},
			}},
			{kind: spoolDelete, ent: 4, rows: [][]any{{"20001", int64(100004)}}},
			{kind: spoolRows, ent: 0, rows: [][]any{{"100", "name", []byte{0, 1, 2}, "u"}}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sp := &spool{dir: t.TempDir()}
			defer sp.close()
			for _, r := range tt.recs {
				sp.write(r.kind, r.ent, r.rows)
			}
			if sp.err != nil {
				t.Fatal(sp.err)
			}
			for range 2 { // a spool replays as often as the connection is lost
				var got []spoolRecord
				if err := sp.replay(func(r *spoolRecord) error { got = append(got, *r); return nil }); err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(tt.recs, got, cmp.AllowUnexported(spoolRecord{})); diff != "" {
					t.Errorf("replayed (-written +read):\n%s", diff)
				}
			}
		})
	}
}

// A value the spool cannot hold stops it without failing the stage; a replay (a
// reconnection, which needs it) fails then.
func TestSpoolIncompleteFailsOnlyTheReplay(t *testing.T) {
	t.Parallel()
	sp := &spool{dir: t.TempDir()}
	defer sp.close()
	sp.write(spoolRows, 0, [][]any{{struct{}{}}})
	sp.write(spoolRows, 0, [][]any{{"fine"}})
	if sp.err == nil {
		t.Fatal("no error for a value the spool cannot hold")
	}
	if err := sp.replay(func(*spoolRecord) error { return nil }); err == nil {
		t.Fatal("an incomplete spool replayed")
	}
}

// The spool's file has no name once created: a process that dies (SIGKILL, OOM) leaves none
// of the rows it staged behind, and the spool still replays them.
func TestSpoolLeavesNoFileBehind(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sp := &spool{dir: dir}
	defer sp.close()
	sp.write(spoolRows, 0, [][]any{{"row"}})
	if entries, err := os.ReadDir(dir); err != nil || len(entries) != 0 {
		t.Fatalf("spool directory holds %v (err %v), want nothing", entries, err)
	}
	var got []spoolRecord
	if err := sp.replay(func(r *spoolRecord) error { got = append(got, *r); return nil }); err != nil {
		t.Fatal(err)
	}
	want := []spoolRecord{{kind: spoolRows, ent: 0, rows: [][]any{{"row"}}}}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(spoolRecord{})); diff != "" {
		t.Errorf("replayed (-written +read):\n%s", diff)
	}
}
