package sync

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/evsync/evsync/db"
	"github.com/evsync/evsync/engageclient"
	"github.com/evsync/evsync/internal/entity"
)

// The reporting streams: interaction_segments and the interval statistics (queue_stats,
// agent_stats, agent_queue_stats), read through the integration reporting API, each request
// paced by its sub-account's reporting bucket (the client's). A response is not paged and may
// be large: its items are decoded one at a time while the publish copies them, so a window
// never sits in memory whole.

// piece is one request's part of a window: a window that straddles a change of the request
// zone's UTC offset (daylight saving) is read as one request per offset, since a wall-clock
// time on the far side of the change would name another instant, or two.
type piece struct {
	start, end time.Time
	loc        *time.Location
}

// pieces divides span into pieces of one UTC offset each in loc (nil: UTC).
func pieces(span db.Span, loc *time.Location) []piece {
	if loc == nil {
		loc = time.UTC
	}
	var out []piece
	for start := span.Start; start.Before(span.End); {
		end := span.End
		if _, zoneEnd := start.In(loc).ZoneBounds(); !zoneEnd.IsZero() && zoneEnd.Before(end) {
			end = zoneEnd
		}
		out = append(out, piece{start: start, end: end, loc: loc})
		start = end
	}
	return out
}

// fixed is the piece's fixed zone: its UTC offset, under which each of its wall-clock times
// names exactly one instant (the zone's rules would pick one side of a fall-back hour).
func (p piece) fixed() *time.Location {
	name, off := p.start.In(p.loc).Zone()
	return time.FixedZone(name, off)
}

// zone is the zone the piece's requests are written in: the configured one, unless a bound
// of the piece written as wall-clock time there names another instant (the repeated hour of a
// fall-back: "01:00" New York on 2026-11-01 is read as the first, 05:00Z); then a zone of the
// piece's fixed offset, named as the time zone database names it (UTC-5 is Etc/GMT+5). [I] The
// API takes "a timezone name"; that it reads Etc/GMT names is not documented. An offset that is
// not whole hours has no such name: the configured zone is sent.
func (p piece) zone() *time.Location {
	if p.loc == time.UTC || (sameWallClock(p.start, p.loc) && sameWallClock(p.end, p.loc)) {
		return p.loc
	}
	_, off := p.start.In(p.loc).Zone()
	if off%3600 != 0 {
		return p.loc
	}
	name := "Etc/GMT"
	switch h := -off / 3600; {
	case h > 0:
		name += "+" + strconv.Itoa(h)
	case h < 0:
		name += strconv.Itoa(h)
	}
	return time.FixedZone(name, off)
}

// sameWallClock reports whether t written as wall-clock time in loc reads back as t.
func sameWallClock(t time.Time, loc *time.Location) bool {
	back, err := time.ParseInLocation(engageclient.ReportingDateLayout, t.In(loc).Format(engageclient.ReportingDateLayout), loc)
	return err == nil && back.Equal(t)
}

// statsIntervalMax is the length of the statistics' intervals (the requests' timeInterval):
// evsync asks for hourly rows, sent as 3600, in seconds as the official spec types the field
// (the older reports guide says minutes) [I].
const statsIntervalMax = time.Hour

// statsInterval is the interval of piece p's statistics: an hour, or the longest of 30, 15, 5
// and 1 minutes that divides a shorter piece and its start's wall-clock time of day, so that
// no interval is cut short and each begins on the zone's grid ([I] in a zone half an hour off
// UTC, the API may well align intervals to the local hour).
func statsInterval(p piece) time.Duration {
	d := p.end.Sub(p.start)
	_, off := p.start.In(p.loc).Zone()
	local := time.Duration(p.start.Unix()+int64(off)) * time.Second
	for _, i := range []time.Duration{statsIntervalMax, 30 * time.Minute, 15 * time.Minute, 5 * time.Minute, time.Minute} {
		if d >= i && d%i == 0 && local%i == 0 {
			return i
		}
	}
	return time.Minute
}

// rcAccountFor returns the RingCentral account id the reporting paths take for sub: the
// accounts listing's mainAccount.rcAccountId, else (once per run) the id of the session's
// RingCentral account.
func (r *StreamRunner) rcAccountFor(ctx context.Context, sub string) (string, error) {
	if id := r.rcAccounts[sub]; id != "" {
		return id, nil
	}
	// Only an answer is kept: a failure is asked again by the next window.
	r.rcMu.Lock()
	defer r.rcMu.Unlock()
	if r.rcID == "" {
		id, err := r.client.RCAccountID(ctx)
		if err != nil {
			return "", fmt.Errorf("reading the RingCentral account id the reporting API needs: %w", err)
		}
		r.rcID = id
	}
	return r.rcID, nil
}

// reportingRead is what each reporting stream's read needs: the rcAccountId and the pieces.
func reportingRead(ctx context.Context, rd *windowRead) (string, []piece, error) {
	rc, err := rd.rcAccount(ctx)
	if err != nil {
		return "", nil, err
	}
	return rc, pieces(rd.span, rd.loc), nil
}

// requestFunc sends the request of one piece and returns its items, open.
type requestFunc[T any] func(ctx context.Context, p piece) (*engageclient.Items[T], error)

// readPieces reads a window's pieces in order as one sequence of rows, each item mapped by
// row. The first piece's request is sent before it returns, so that a refusal (403, 429, a
// 400) fails the window before its publish begins; a later piece's is sent when the rows reach
// it. Every response is closed when the rows end or when the window's read is done.
func readPieces[T any](ctx context.Context, rd *windowRead, ps []piece, send requestFunc[T],
	row func(p piece, item *T) (db.StreamRow, error)) (iter.Seq2[db.StreamRow, error], error) {
	first, err := send(ctx, ps[0])
	if err != nil {
		return nil, err
	}
	rd.onDone(func() { _ = first.Close() })
	return func(yield func(db.StreamRow, error) bool) {
		for i, p := range ps {
			items := first
			if i > 0 {
				var err error
				if items, err = send(ctx, p); err != nil {
					yield(db.StreamRow{}, err)
					return
				}
				rd.onDone(func() { _ = items.Close() })
			}
			for item, err := range items.All() {
				if err != nil {
					yield(db.StreamRow{}, err)
					return
				}
				r, err := row(p, item)
				if !yield(r, err) || err != nil {
					return
				}
			}
		}
	}, nil
}

// readInteractionSegments reads the segments that ended in one window: segmentEndTime is the
// window's (or piece's) start in the request zone, timeInterval its length in seconds.
func readInteractionSegments(ctx context.Context, c StreamClient, rd *windowRead) (iter.Seq2[db.StreamRow, error], error) {
	rc, ps, err := reportingRead(ctx, rd)
	if err != nil {
		return nil, err
	}
	// [I] A call's channelId is a phone number (reports.md): the number reached, so it goes
	// with dnis.
	redact := newRedaction(rd.redact, map[string][]string{"ani": {"channelEndpointAddress"},
		"dnis": {"contactEndpointAddress", "channelId"}, "agent_notes": {"agentNotes"}})
	return readPieces(ctx, rd, ps,
		func(ctx context.Context, p piece) (*engageclient.Items[engageclient.InteractionSegment], error) {
			return c.ReadInteractionSegments(ctx, rc, rd.subAccountID, &engageclient.SegmentsWindow{
				Start: p.start, Interval: p.end.Sub(p.start), Location: p.zone()})
		},
		func(_ piece, s *engageclient.InteractionSegment) (db.StreamRow, error) {
			return segmentRow(s, redact)
		})
}

// segmentRow maps one segment to its row (entity.InteractionSegments' columns, in order).
func segmentRow(s *engageclient.InteractionSegment, redact *redaction) (db.StreamRow, error) {
	ani, dnis, channel, notes := s.ChannelEndpointAddress, s.ContactEndpointAddress, s.ChannelID, s.AgentNotes
	if redact.has("ani") {
		ani = nil
	}
	if redact.has("dnis") {
		dnis, channel = nil, nil
	}
	if redact.has("agent_notes") {
		notes = nil
	}
	raw, err := redact.raw(s.Raw)
	if err != nil {
		return db.StreamRow{}, fmt.Errorf("segment %s: %w", s.SegmentID, err)
	}
	return db.StreamRow{
		Key: []any{s.SegmentID},
		Vals: []any{s.DialogID, s.InteractionID, s.ChannelType, s.ChannelClass, channel, ani, dnis, s.DialogOrigination,
			s.DialogStart, s.DialogEnd, s.DialogDurationMs, s.SegmentType, s.SegmentParticipantID, s.SegmentParticipantRCExtensionID,
			numericID(s.SegmentAgentGroupID), s.SegmentStart, s.SegmentEnd, s.SegmentDurationMs,
			s.SystemDisposition, s.AgentDisposition, notes, s.HasRecording, s.HasTranscript},
		Raw: raw,
	}, nil
}

// numericID is an id sent as a string, as a number; nil when it is absent or not a number
// ([I] the spec types segmentAgentGroupId a string and the example sends digits; the column
// joins agent_groups' numeric ids, and raw keeps whatever was sent).
func numericID(s *string) any {
	if s == nil {
		return nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(*s), 10, 64)
	if err != nil {
		return nil
	}
	return n
}

// statsWindow is the request body of a piece of a statistics window.
func statsWindow(p piece) *engageclient.StatsWindow {
	return &engageclient.StatsWindow{Start: p.start, End: p.end, Interval: statsInterval(p), Location: p.zone()}
}

// statsRequest is a statistics endpoint's call: one piece's request, for rcAccountId rc.
type statsRequest[T any] func(ctx context.Context, rc, sub string, w *engageclient.StatsWindow) (*engageclient.Items[T], error)

// readStats reads the statistics of stream name for one window: each piece's request by send,
// each row by its dateTimeFrom, its ids (the key between the sub-account and the interval) and
// its raw object, which keyOf gives.
func readStats[T any](ctx context.Context, rd *windowRead, name entity.Name, send statsRequest[T],
	keyOf func(*T) (dateTimeFrom string, ids []any, raw json.RawMessage)) (iter.Seq2[db.StreamRow, error], error) {
	rc, ps, err := reportingRead(ctx, rd)
	if err != nil {
		return nil, err
	}
	cols := entity.StreamOf(name).Columns
	return readPieces(ctx, rd, ps,
		func(ctx context.Context, p piece) (*engageclient.Items[T], error) {
			return send(ctx, rc, rd.subAccountID, statsWindow(p))
		},
		func(p piece, item *T) (db.StreamRow, error) {
			from, ids, raw := keyOf(item)
			return statsRow(p, from, ids, raw, cols)
		})
}

// readQueueStats reads the queue statistics of one window.
func readQueueStats(ctx context.Context, c StreamClient, rd *windowRead) (iter.Seq2[db.StreamRow, error], error) {
	return readStats(ctx, rd, entity.QueueStats, c.ReadQueueStats, func(q *engageclient.QueueStats) (string, []any, json.RawMessage) {
		return q.DateTimeFrom, []any{q.QueueID}, q.Raw
	})
}

// readAgentStats reads the agent statistics of one window.
func readAgentStats(ctx context.Context, c StreamClient, rd *windowRead) (iter.Seq2[db.StreamRow, error], error) {
	return readStats(ctx, rd, entity.AgentStats, c.ReadAgentStats, func(a *engageclient.AgentStats) (string, []any, json.RawMessage) {
		return a.DateTimeFrom, []any{a.AgentID}, a.Raw
	})
}

// readAgentQueueStats reads the agent statistics per queue of one window.
func readAgentQueueStats(ctx context.Context, c StreamClient, rd *windowRead) (iter.Seq2[db.StreamRow, error], error) {
	return readStats(ctx, rd, entity.AgentQueueStats, c.ReadAgentQueueStats, func(a *engageclient.AgentQueueStats) (string, []any, json.RawMessage) {
		return a.DateTimeFrom, []any{a.AgentID, a.QueueID}, a.Raw
	})
}

// statsRow maps one statistics row: its key (ids, then the interval's start and length) and
// its columns, each read from raw by the API field it comes from (Column.From): the names as
// text, the metrics as integers.
func statsRow(p piece, dateTimeFrom string, ids []any, raw json.RawMessage, cols []entity.Column) (db.StreamRow, error) {
	start, err := intervalStart(dateTimeFrom, p)
	if err != nil {
		return db.StreamRow{}, err
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return db.StreamRow{}, fmt.Errorf("decoding a statistics row: %w", err)
	}
	vals := make([]any, len(cols))
	for i, c := range cols {
		v, err := statsValue(c, fields[c.From])
		if err != nil {
			return db.StreamRow{}, fmt.Errorf("statistics row of %s: %s: %w", cutValue(dateTimeFrom), c.From, err)
		}
		vals[i] = v
	}
	interval := int64(statsInterval(p) / time.Second)
	return db.StreamRow{Key: append(slices.Clone(ids), start, interval), Vals: vals, Raw: raw}, nil
}

// statsValue reads one field of a statistics row for column c: absent or null is NULL; a
// text column takes a string (or a number's text), a metric a whole number, [I] also sent as a
// numeric string or a float without fraction.
func statsValue(c entity.Column, v json.RawMessage) (any, error) {
	v = bytes.TrimSpace(v)
	if len(v) == 0 || string(v) == "null" {
		return nil, nil
	}
	if c.Kind == entity.Text {
		var s string
		if v[0] == '"' {
			if err := json.Unmarshal(v, &s); err != nil {
				return nil, err
			}
			return s, nil
		}
		return string(v), nil
	}
	text := string(v)
	if v[0] == '"' {
		if err := json.Unmarshal(v, &text); err != nil {
			return nil, err
		}
	}
	if n, err := strconv.ParseInt(strings.TrimSpace(text), 10, 64); err == nil {
		return n, nil
	}
	if f, err := strconv.ParseFloat(strings.TrimSpace(text), 64); err == nil && f == float64(int64(f)) {
		return int64(f), nil
	}
	return nil, fmt.Errorf("expected a whole number, got %s", cutValue(string(v)))
}

// cutValue is v, cut for an error message.
func cutValue(v string) string {
	if len(v) > 40 {
		return v[:40] + "..."
	}
	return v
}

// dateTimeFromLayouts are the readings of dateTimeFrom: the spec's example
// ("03-04-2024T01:00:00") in either order, since the documents do not say whether it is
// month-day or day-month (docs/streams.md: the reading inside the window requested wins); [I] an
// ISO date, in case the API writes one.
var dateTimeFromLayouts = []string{"01-02-2006T15:04:05", "02-01-2006T15:04:05", "2006-01-02T15:04:05", "2006-01-02 15:04:05"}

// intervalStart reads dateTimeFrom, wall-clock time in the request's zone without an offset,
// as the instant inside piece p: of its readings, the one in [p.start, p.end). None: an
// error naming the field.
func intervalStart(s string, p piece) (time.Time, error) {
	loc := p.fixed()
	for _, layout := range dateTimeFromLayouts {
		t, err := time.ParseInLocation(layout, strings.TrimSpace(s), loc)
		if err == nil && !t.Before(p.start) && t.Before(p.end) {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("dateTimeFrom %q: expected the start of an interval within the window requested "+
		"[%s, %s) as MM-DD-YYYYTHH:mm:ss or DD-MM-YYYYTHH:mm:ss in %s", cutValue(s),
		p.start.In(loc).Format("2006-01-02 15:04"), p.end.In(loc).Format("2006-01-02 15:04"), p.loc)
}

// redaction is streams.redact applied to one stream: the columns stored as NULL and the
// fields of raw they come from, removed.
type redaction struct {
	columns []string
	fields  []string // the raw fields to remove
}

// newRedaction is the redaction of the columns of redact that fieldsOf maps (column → the
// fields of raw that hold its value).
func newRedaction(redact []string, fieldsOf map[string][]string) *redaction {
	r := &redaction{}
	for _, c := range redact {
		if fs, ok := fieldsOf[c]; ok {
			r.columns = append(r.columns, c)
			r.fields = append(r.fields, fs...)
		}
	}
	return r
}

func (r *redaction) has(column string) bool { return slices.Contains(r.columns, column) }

// raw is raw without the redacted fields (raw itself when none is redacted).
func (r *redaction) raw(raw json.RawMessage) (json.RawMessage, error) {
	if len(r.fields) == 0 {
		return raw, nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, fmt.Errorf("decoding the item: %w", err)
	}
	for _, f := range r.fields {
		delete(obj, f)
	}
	return json.Marshal(obj)
}
