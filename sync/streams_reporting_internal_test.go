package sync

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/evsync/evsync/db"
	"github.com/evsync/evsync/internal/entity"
)

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// A window is split where its zone's UTC offset changes, and nowhere else.
func TestPiecesSplitAtOffsetChanges(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		span  db.Span
		loc   *time.Location
		wants []string // piece starts
	}{
		{"UTC", db.Span{Start: utc("2026-03-08T06:00:00Z"), End: utc("2026-03-08T09:00:00Z")}, nil, []string{"2026-03-08T06:00:00Z"}},
		{"spring forward", db.Span{Start: utc("2026-03-08T06:00:00Z"), End: utc("2026-03-08T09:00:00Z")}, ny,
			[]string{"2026-03-08T06:00:00Z", "2026-03-08T07:00:00Z"}},
		{"ends at the change", db.Span{Start: utc("2026-11-01T03:00:00Z"), End: utc("2026-11-01T06:00:00Z")}, ny, []string{"2026-11-01T03:00:00Z"}},
		{"starts at the change", db.Span{Start: utc("2026-11-01T06:00:00Z"), End: utc("2026-11-01T09:00:00Z")}, ny, []string{"2026-11-01T06:00:00Z"}},
		{"no change", db.Span{Start: utc("2026-12-05T00:00:00Z"), End: utc("2026-12-05T03:00:00Z")}, ny, []string{"2026-12-05T00:00:00Z"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps := pieces(tt.span, tt.loc)
			var got []string
			for i, p := range ps {
				got = append(got, p.start.UTC().Format(time.RFC3339))
				if i > 0 && !ps[i-1].end.Equal(p.start) {
					t.Errorf("piece %d starts at %v, the one before ends at %v", i, p.start, ps[i-1].end)
				}
			}
			if strings.Join(got, " ") != strings.Join(tt.wants, " ") || !ps[len(ps)-1].end.Equal(tt.span.End) {
				t.Errorf("pieces %v (last ends %v), want starts %v ending at %v", got, ps[len(ps)-1].end, tt.wants, tt.span.End)
			}
		})
	}
}

// dateTimeFrom is read month first or day first, whichever lands inside the piece; in the
// piece's offset; an ISO date too; and neither reading inside is an error naming the field.
func TestIntervalStartReadings(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, in string
		p        piece
		want     string // RFC 3339 UTC, or the error's text
	}{
		{"month first", "03-04-2024T01:00:00", piece{utc("2024-03-04T00:00:00Z"), utc("2024-03-04T03:00:00Z"), time.UTC}, "2024-03-04T01:00:00Z"},
		{"day first", "03-04-2024T01:00:00", piece{utc("2024-04-03T00:00:00Z"), utc("2024-04-03T03:00:00Z"), time.UTC}, "2024-04-03T01:00:00Z"},
		{"day over 12", "25-12-2026T10:00:00", piece{utc("2026-12-25T09:00:00Z"), utc("2026-12-25T12:00:00Z"), time.UTC}, "2026-12-25T10:00:00Z"},
		{"request zone", "12-05-2026T01:00:00", piece{utc("2026-12-05T06:00:00Z"), utc("2026-12-05T09:00:00Z"), ny}, "2026-12-05T06:00:00Z"},
		{"spring forward's far side", "03-08-2026T03:00:00", piece{utc("2026-03-08T07:00:00Z"), utc("2026-03-08T09:00:00Z"), ny}, "2026-03-08T07:00:00Z"},
		{"ISO", "2026-12-05 01:00:00", piece{utc("2026-12-05T00:00:00Z"), utc("2026-12-05T03:00:00Z"), time.UTC}, "2026-12-05T01:00:00Z"},
		{"outside", "03-04-2024T05:00:00", piece{utc("2024-03-04T00:00:00Z"), utc("2024-03-04T03:00:00Z"), time.UTC},
			`dateTimeFrom "03-04-2024T05:00:00": expected the start of an interval within the window requested [2024-03-04 00:00, 2024-03-04 03:00) as MM-DD-YYYYTHH:mm:ss or DD-MM-YYYYTHH:mm:ss in UTC`},
		{"garbage", "soon", piece{utc("2024-03-04T00:00:00Z"), utc("2024-03-04T03:00:00Z"), time.UTC}, `dateTimeFrom "soon": expected`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := intervalStart(tt.in, tt.p)
			var s string
			if err != nil {
				s = err.Error()
			} else {
				s = got.UTC().Format(time.RFC3339)
			}
			if !strings.HasPrefix(s, tt.want) {
				t.Errorf("intervalStart(%q) = %s, want %s", tt.in, s, tt.want)
			}
		})
	}
}

// A stats row's columns are read from raw by their field, tolerantly; a metric that is not a
// whole number is an error naming its field.
func TestStatsRow(t *testing.T) {
	cols := entity.StreamOf(entity.QueueStats).Columns
	p := piece{utc("2024-03-04T00:00:00Z"), utc("2024-03-04T03:00:00Z"), time.UTC}
	raw := json.RawMessage(`{"dateTimeFrom":"03-04-2024T01:00:00","interval":60,"queue":5686,"queueName":"Queue","offdDirectIxnCnt":3,"answIxnCnt":"3",` +
		`"abandIxnCnt":0,"completedContacts":122.0,"talkingIxnDur":90,"segmentHoldTime":512000,"overflowInIxnCnt":null}`)
	r, err := statsRow(p, "03-04-2024T01:00:00", []any{int64(5686)}, raw, cols)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Key) != 3 || r.Key[0] != int64(5686) || !r.Key[1].(time.Time).Equal(utc("2024-03-04T01:00:00Z")) || r.Key[2] != int64(3600) {
		t.Errorf("key %v, want 5686, 01:00Z, 3600", r.Key)
	}
	byName := map[string]any{}
	for i, c := range cols {
		byName[c.Name] = r.Vals[i]
	}
	for name, want := range map[string]any{"queue_name": "Queue", "offd_direct_ixn_cnt": int64(3), "answ_ixn_cnt": int64(3),
		"completed_contacts": int64(122), "segment_hold_time": int64(512000), "overflow_in_ixn_cnt": nil, "wait_dur": nil} {
		if byName[name] != want {
			t.Errorf("%s = %v (%T), want %v", name, byName[name], byName[name], want)
		}
	}
	bad := json.RawMessage(`{"dateTimeFrom":"03-04-2024T01:00:00","queue":1,"answIxnCnt":"many"}`)
	if _, err := statsRow(p, "03-04-2024T01:00:00", []any{int64(1)}, bad, cols); err == nil || !strings.Contains(err.Error(), "answIxnCnt") {
		t.Errorf("a metric that is not a number: %v, want an error naming answIxnCnt", err)
	}
}

// The statistics' interval is an hour, or the longest of 30, 15, 5 and 1 minutes dividing a
// shorter window.
func TestStatsInterval(t *testing.T) {
	start := utc("2026-12-05T03:00:00Z")
	for d, want := range map[time.Duration]time.Duration{3 * time.Hour: time.Hour, time.Hour: time.Hour, 2 * time.Hour: time.Hour,
		30 * time.Minute: 30 * time.Minute, 90 * time.Minute: 30 * time.Minute, 45 * time.Minute: 15 * time.Minute} {
		if got := statsInterval(piece{start, start.Add(d), time.UTC}); got != want {
			t.Errorf("statsInterval(%v) = %v, want %v", d, got, want)
		}
	}
	kolkata, err := time.LoadLocation("Asia/Kolkata")
	if err != nil {
		t.Fatal(err)
	}
	if got := statsInterval(piece{start, start.Add(3 * time.Hour), kolkata}); got != 30*time.Minute {
		t.Errorf("statsInterval of a window starting 08:30 in Kolkata = %v, want 30m", got)
	}
}
