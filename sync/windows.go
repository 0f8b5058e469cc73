package sync

import (
	"time"

	"github.com/evsync/evsync/db"
)

// The window arithmetic of the streams (docs/streams.md, "Windows"): fixed windows aligned
// in UTC from midnight, due for a first read once they have been closed for first_delay and
// for a settle read once closed for settle_after. Pure functions of the clock, the ledger rows
// and the configuration, so that every rule is tested on its own.

// Backoff of a window whose read failed: retried at a due check once failBackoffBase ×
// 2^(attempts-1) has passed since the attempt, at most failBackoffMax. A 403 is tried again
// after notEntitledRetry.
const (
	failBackoffBase  = 5 * time.Minute
	failBackoffMax   = 6 * time.Hour
	notEntitledRetry = 24 * time.Hour
)

// alignDown returns the start of the window of size w that holds t: windows are aligned in
// UTC from midnight (w divides a day; time.Truncate counts from the zero time, a UTC
// midnight).
func alignDown(t time.Time, w time.Duration) time.Time { return t.UTC().Truncate(w) }

// alignUp returns the end of the window of size w that holds t, or t itself when t starts a
// window.
func alignUp(t time.Time, w time.Duration) time.Time {
	d := alignDown(t, w)
	if d.Equal(t.UTC()) {
		return d
	}
	return d.Add(w)
}

// lastClosedEnd is the end of the latest window of size w that is due for its first read at
// now: the latest aligned end e with now ≥ e + firstDelay.
func lastClosedEnd(now time.Time, w, firstDelay time.Duration) time.Time {
	return alignDown(now.Add(-firstDelay), w)
}

// spans cuts [from, to) into windows of size w (from and to aligned).
func spans(from, to time.Time, w time.Duration) []db.Span {
	var out []db.Span
	for s := from; s.Before(to); s = s.Add(w) {
		out = append(out, db.Span{Start: s, End: s.Add(w)})
	}
	return out
}

// gridFrom cuts [from, to) into windows of size w as spans does, from a from that may lie off
// the grid (the ledger's last end after the window size changed): its first window then ends
// at the next aligned time, and every one after it is aligned.
func gridFrom(from, to time.Time, w time.Duration) []db.Span {
	a := alignUp(from, w)
	if a.Equal(from.UTC()) || !a.Before(to) {
		if !a.Equal(from.UTC()) {
			return []db.Span{{Start: from, End: to}}
		}
		return spans(from, to, w)
	}
	return append([]db.Span{{Start: from, End: a}}, spans(a, to, w)...)
}

// readKind is what a due read of a window is.
type readKind uint8

const (
	notDue readKind = iota
	firstRead
	settleRead // a settle read, or a first read made once the settle time has passed (both)
)

// windowRules are the due rules of one stream.
type windowRules struct {
	firstDelay  time.Duration
	settleAfter time.Duration // 0: no settle reads (a first read is final)
}

// settles reports whether a read of a window ending at end, made at now, counts as its settle
// read.
func (r windowRules) settles(now, end time.Time) bool {
	return r.settleAfter == 0 || !now.Before(end.Add(r.settleAfter))
}

// kindAt returns whether window w is due at now, and for which read.
func (r windowRules) kindAt(now time.Time, w *db.Window) readKind {
	if now.Before(w.End.Add(r.firstDelay)) {
		return notDue
	}
	switch w.Status {
	case db.WindowSucceeded:
		if w.SettledAt != nil || !r.settles(now, w.End) {
			return notDue
		}
		return settleRead
	case db.WindowFailed:
		if w.AttemptedAt != nil && now.Before(w.AttemptedAt.Add(failBackoff(w.Attempts))) {
			return notDue
		}
	case db.WindowNotEntitled:
		if w.AttemptedAt != nil && now.Before(w.AttemptedAt.Add(notEntitledRetry)) {
			return notDue
		}
	}
	if w.FirstReadAt != nil && w.SettledAt != nil {
		return notDue // read and settled; a failure since was a refetch's
	}
	if r.settles(now, w.End) {
		return settleRead
	}
	return firstRead
}

// failBackoff is how long a window whose read failed attempts times waits before its next read.
func failBackoff(attempts int) time.Duration {
	d := failBackoffBase
	for i := 1; i < attempts && d < failBackoffMax; i++ {
		d *= 2
	}
	return min(d, failBackoffMax)
}

// refusedUntil returns when a (stream, sub-account) whose windows include a 403 may be tried
// again, or the zero time when none of ws was refused recently (at now).
func refusedUntil(now time.Time, ws []db.Window) time.Time {
	var until time.Time
	for i := range ws {
		w := &ws[i]
		if w.Status != db.WindowNotEntitled || w.AttemptedAt == nil {
			continue
		}
		if t := w.AttemptedAt.Add(notEntitledRetry); now.Before(t) && t.After(until) {
			until = t
		}
	}
	return until
}
