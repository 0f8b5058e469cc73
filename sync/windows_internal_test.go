package sync

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/evsync/evsync/db"
	"github.com/evsync/evsync/engageclient"
)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// TestWindowGridAlignedInUTC: windows start at UTC midnight multiples of their size, whatever
// the zone of the time given, and cut a range contiguously.
func TestWindowGridAlignedInUTC(t *testing.T) {
	t.Parallel()
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		t    time.Time
		w    time.Duration
		down string
		up   string
	}{
		{at("2026-12-01T04:59:59Z"), time.Hour, "2026-12-01T04:00:00Z", "2026-12-01T05:00:00Z"},
		{at("2026-12-01T05:00:00Z"), time.Hour, "2026-12-01T05:00:00Z", "2026-12-01T05:00:00Z"},
		{at("2026-12-01T05:10:00Z").In(ny), 3 * time.Hour, "2026-12-01T03:00:00Z", "2026-12-01T06:00:00Z"},
		{at("2026-12-01T00:40:00Z"), 30 * time.Minute, "2026-12-01T00:30:00Z", "2026-12-01T01:00:00Z"},
	} {
		if got := alignDown(tt.t, tt.w); !got.Equal(at(tt.down)) {
			t.Errorf("alignDown(%s, %s) = %s, want %s", tt.t, tt.w, got, tt.down)
		}
		if got := alignUp(tt.t, tt.w); !got.Equal(at(tt.up)) {
			t.Errorf("alignUp(%s, %s) = %s, want %s", tt.t, tt.w, got, tt.up)
		}
	}
	got := spans(at("2026-12-01T21:00:00Z"), at("2026-12-02T03:00:00Z"), 3*time.Hour)
	want := []db.Span{{Start: at("2026-12-01T21:00:00Z"), End: at("2026-12-02T00:00:00Z")},
		{Start: at("2026-12-02T00:00:00Z"), End: at("2026-12-02T03:00:00Z")}}
	if len(got) != len(want) || !got[0].Start.Equal(want[0].Start) || !got[1].End.Equal(want[1].End) {
		t.Fatalf("spans = %v, want %v", got, want)
	}
	// The last window due for a first read ends first_delay or more before now.
	if got := lastClosedEnd(at("2026-12-01T05:19:59Z"), time.Hour, 20*time.Minute); !got.Equal(at("2026-12-01T04:00:00Z")) {
		t.Errorf("lastClosedEnd at 05:19:59 = %s, want 04:00", got)
	}
	if got := lastClosedEnd(at("2026-12-01T05:20:00Z"), time.Hour, 20*time.Minute); !got.Equal(at("2026-12-01T05:00:00Z")) {
		t.Errorf("lastClosedEnd at 05:20 = %s, want 05:00", got)
	}
}

// TestWindowDueRules: first read at end + first_delay, settle read at end + settle_after (a
// read after it counts as both), failed windows after their backoff, a 403 after a day.
func TestWindowDueRules(t *testing.T) {
	t.Parallel()
	r := windowRules{firstDelay: 20 * time.Minute, settleAfter: 24 * time.Hour}
	end := at("2026-12-01T05:00:00Z")
	tp := func(s string) *time.Time { v := at(s); return &v }
	win := func(status db.WindowStatus, first, settled, attempted *time.Time, attempts int) *db.Window {
		return &db.Window{Start: end.Add(-time.Hour), End: end, Status: status, FirstReadAt: first, SettledAt: settled,
			AttemptedAt: attempted, Attempts: attempts}
	}
	for _, tt := range []struct {
		name string
		now  string
		w    *db.Window
		want readKind
	}{
		{"pending before first_delay", "2026-12-01T05:19:00Z", win(db.WindowPending, nil, nil, nil, 0), notDue},
		{"pending at first_delay", "2026-12-01T05:20:00Z", win(db.WindowPending, nil, nil, nil, 0), firstRead},
		{"pending after settle time is both", "2026-12-02T05:00:00Z", win(db.WindowPending, nil, nil, nil, 0), settleRead},
		{"read, before settle time", "2026-12-02T04:59:00Z", win(db.WindowSucceeded, tp("2026-12-01T05:20:00Z"), nil, nil, 1), notDue},
		{"read, at settle time", "2026-12-02T05:00:00Z", win(db.WindowSucceeded, tp("2026-12-01T05:20:00Z"), nil, nil, 1), settleRead},
		{"settled", "2026-12-05T00:00:00Z", win(db.WindowSucceeded, tp("2026-12-01T05:20:00Z"), tp("2026-12-02T05:00:00Z"), nil, 2), notDue},
		{"failed, in backoff", "2026-12-01T06:04:00Z", win(db.WindowFailed, nil, nil, tp("2026-12-01T06:00:00Z"), 1), notDue},
		{"failed, backoff over", "2026-12-01T06:05:00Z", win(db.WindowFailed, nil, nil, tp("2026-12-01T06:00:00Z"), 1), firstRead},
		{"failed thrice, 20 min backoff", "2026-12-01T06:19:00Z", win(db.WindowFailed, nil, nil, tp("2026-12-01T06:00:00Z"), 3), notDue},
		{"settle failed, retried as settle", "2026-12-02T06:10:00Z",
			win(db.WindowFailed, tp("2026-12-01T05:20:00Z"), nil, tp("2026-12-02T06:00:00Z"), 2), settleRead},
		{"not entitled within a day", "2026-12-02T05:59:00Z", win(db.WindowNotEntitled, nil, nil, tp("2026-12-01T06:00:00Z"), 1), notDue},
		{"not entitled after a day", "2026-12-02T06:00:00Z", win(db.WindowNotEntitled, nil, nil, tp("2026-12-01T06:00:00Z"), 1), settleRead},
	} {
		if got := r.kindAt(at(tt.now), tt.w); got != tt.want {
			t.Errorf("%s: kindAt = %d, want %d", tt.name, got, tt.want)
		}
	}
	noSettle := windowRules{firstDelay: 20 * time.Minute}
	if got := noSettle.kindAt(at("2026-12-01T05:20:00Z"), win(db.WindowPending, nil, nil, nil, 0)); got != settleRead {
		t.Errorf("settle_after 0: a first read is final (settle), got %d", got)
	}
	if got := noSettle.kindAt(at("2026-12-03T00:00:00Z"), win(db.WindowSucceeded, tp("2026-12-01T05:20:00Z"), tp("2026-12-01T05:20:00Z"), nil, 1)); got != notDue {
		t.Errorf("settle_after 0: a read window is done, got %d", got)
	}
	if got, want := failBackoff(20), failBackoffMax; got != want {
		t.Errorf("failBackoff(20) = %s, want the cap %s", got, want)
	}
	refused := []db.Window{*win(db.WindowNotEntitled, nil, nil, tp("2026-12-01T06:00:00Z"), 1), *win(db.WindowPending, nil, nil, nil, 0)}
	if got := refusedUntil(at("2026-12-01T07:00:00Z"), refused); !got.Equal(at("2026-12-02T06:00:00Z")) {
		t.Errorf("refusedUntil = %s, want a day after the 403", got)
	}
	if got := refusedUntil(at("2026-12-02T07:00:00Z"), refused); !got.IsZero() {
		t.Errorf("refusedUntil a day later = %s, want zero", got)
	}
}

// TestAuditRowSecretChange: a secret-bearing attribute keeps its name and loses both values,
// in the changes column and in raw; other attributes keep theirs; the class is its last
// segment; a redacted source IP is in neither the column nor raw.
func TestAuditRowSecretChange(t *testing.T) {
	t.Parallel()
	js := `{"id":"6f1c0a57-3a0b-4c39-9d1e-0d6c4a6d2f10","accountId":"20001","actionType":"UPDATE",
		"auditedClass":"com.connectfirst.api.model.intelliqueue_globalcatalog.acd.Agent","auditedEntityId":"777",
		"createTime":1764558000000,"authUser":{"userId":"42","userName":"admin@example.com","sourceId":"203.0.113.9"},
		"auditLogResultList":[{"attributeName":"password","originalValue":"hunter2-old","newValue":"s3cr3t-new","classType":"java.lang.String"},
		{"attributeName":"firstName","originalValue":"Ann","newValue":"Anne"}],
		"affectedEntityJson":"{\"agentId\":777,\"password\":\"in-a-string\"}"}`
	var a engageclient.AuditLog
	if err := json.Unmarshal([]byte(js), &a); err != nil {
		t.Fatal(err)
	}
	for _, redact := range [][]string{nil, {"source_ip"}} {
		row, err := auditRow(&a, redact)
		if err != nil {
			t.Fatal(err)
		}
		changes := string(row.Vals[8].([]byte))
		all := changes + string(row.Raw)
		for _, secret := range []string{"hunter2-old", "s3cr3t-new", "in-a-string"} {
			if strings.Contains(all, secret) {
				t.Errorf("redact %v: secret %q kept: %s", redact, secret, all)
			}
		}
		if !strings.Contains(changes, `"attribute":"password"`) || !strings.Contains(changes, `"new_value":"Anne"`) {
			t.Errorf("changes = %s, want the password's name and firstName's values", changes)
		}
		if c := row.Vals[1].(*string); *c != "Agent" {
			t.Errorf("audited_class = %q, want Agent", *c)
		}
		ip := strings.Contains(all, "203.0.113.9") || row.Vals[7] != (*string)(nil)
		if redact != nil && ip {
			t.Errorf("redact source_ip: the IP is kept (raw %s, column %v)", row.Raw, row.Vals[7])
		}
		if redact == nil && !ip {
			t.Error("no redact: the IP is lost")
		}
	}
}

// TestGridFromOffTheGrid: after the window size changed, the ledger's last end may lie off the
// new grid: one short window reaches the grid, and every window after it is aligned.
func TestGridFromOffTheGrid(t *testing.T) {
	t.Parallel()
	got := gridFrom(at("2026-12-01T01:30:00Z"), at("2026-12-01T06:00:00Z"), 3*time.Hour)
	want := []db.Span{{Start: at("2026-12-01T01:30:00Z"), End: at("2026-12-01T03:00:00Z")},
		{Start: at("2026-12-01T03:00:00Z"), End: at("2026-12-01T06:00:00Z")}}
	if len(got) != len(want) {
		t.Fatalf("gridFrom = %v, want %v", got, want)
	}
	for i := range want {
		if !got[i].Start.Equal(want[i].Start) || !got[i].End.Equal(want[i].End) {
			t.Errorf("window %d = %v, want %v", i, got[i], want[i])
		}
	}
	if got := gridFrom(at("2026-12-01T01:30:00Z"), at("2026-12-01T03:00:00Z"), 3*time.Hour); len(got) != 1 || !got[0].End.Equal(at("2026-12-01T03:00:00Z")) {
		t.Errorf("gridFrom to the next aligned time = %v, want one window [01:30, 03:00)", got)
	}
	if got := gridFrom(at("2026-12-01T00:00:00Z"), at("2026-12-01T02:00:00Z"), time.Hour); len(got) != 2 {
		t.Errorf("gridFrom on the grid = %v, want two windows", got)
	}
}
