package engageclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// The integration reporting API's limits on one request's window.
const (
	// ReportingMaxWindow is the longest window one aggregate-statistics request may cover
	// (endDate within 3 hours of startDate).
	ReportingMaxWindow = 3 * time.Hour
	// ReportingMinDelay is how long before now a window must end: the API refuses windows
	// that end later.
	ReportingMinDelay = 5 * time.Minute
	// ReportingDateLayout is how the aggregate-statistics requests write startDate and endDate:
	// wall-clock time in the request's timeZone, without a zone.
	ReportingDateLayout = "2006-01-02 15:04:05"
)

// StatsWindow is the body of an aggregate-statistics request: the rows of the intervals of
// [Start, End), Interval long each.
type StatsWindow struct {
	Start    time.Time      // startDate, required
	End      time.Time      // endDate, required: after Start, at most ReportingMaxWindow later
	Interval time.Duration  // timeInterval, whole seconds (the spec's unit: 3600 for hourly rows), required
	Location *time.Location // timeZone: the zone the dates are written in and rows are reported in; nil for UTC
}

// statsBody is the AggregatedIntegrationParams request object.
type statsBody struct {
	StartDate    string `json:"startDate"`
	EndDate      string `json:"endDate"`
	TimeInterval int64  `json:"timeInterval"`
	TimeZone     string `json:"timeZone"`
}

// ListQueueStats returns the queue statistics of one sub-account, one row per queue and
// interval of w: POST /voice/api/cx/integration/v1/accounts/{rcAccountId}/sub-accounts/
// {subAccountId}/agg-queue-stats. rcAccountID is the RingCentral account id (the main
// account's rcAccountId), not an Engage id. The sub-account needs "WEM Access", which
// RingCentral enables: without it the API answers 403 (an *APIError). The integration
// reporting endpoints allow 3 requests per 60 s and 9 per 15 minutes per sub-account; this
// call keeps to the admin limiter only, so a caller that makes more than a few keeps to that
// bucket itself. The answer is a bare array (no paging); when some rows cannot be decoded, the
// others are returned with an error matching *ItemsError.
func (c *Client) ListQueueStats(ctx context.Context, rcAccountID, subAccountID string, w *StatsWindow) ([]*QueueStats, *Response, error) {
	r, err := c.statsRequest(rcAccountID, subAccountID, "agg-queue-stats", w)
	if err != nil {
		return nil, nil, fmt.Errorf("listing queue stats: %w", err)
	}
	items, _, resp, err := listPage[QueueStats](ctx, c, r)
	if err != nil {
		return items, resp, fmt.Errorf("listing queue stats of sub-account %s: %w", subAccountID, err)
	}
	return items, resp, nil
}

// statsRequest builds the request of an aggregate-statistics endpoint (the last path segment).
func (c *Client) statsRequest(rcAccountID, subAccountID, endpoint string, w *StatsWindow) (*request, error) {
	if err := checkSubAccountID(subAccountID); err != nil {
		return nil, err
	}
	switch rcAccountID {
	case "", ".", "..":
		return nil, fmt.Errorf("invalid rcAccountId %q: expected the RingCentral account id", rcAccountID)
	}
	body, err := w.body()
	if err != nil {
		return nil, err
	}
	u := newURL(c.engageBase, "voice/api/cx/integration/v1/accounts/{}/sub-accounts/{}/"+endpoint, nil, rcAccountID, subAccountID)
	return &request{method: http.MethodPost, url: u, json: body}, nil
}

// body checks w and renders it.
func (w *StatsWindow) body() ([]byte, error) {
	if w == nil {
		return nil, errors.New("no window")
	}
	loc := w.Location
	if loc == nil {
		loc = time.UTC
	}
	start, end := w.Start.In(loc), w.End.In(loc)
	if w.Start.IsZero() || w.End.IsZero() || !w.End.After(w.Start) || w.End.Sub(w.Start) > ReportingMaxWindow {
		return nil, fmt.Errorf("invalid window [%s, %s): expected the end after the start, at most %s later",
			start.Format(ReportingDateLayout), end.Format(ReportingDateLayout), ReportingMaxWindow)
	}
	if w.Interval < time.Second || w.Interval%time.Second != 0 {
		return nil, fmt.Errorf("invalid interval %s: expected whole seconds", w.Interval)
	}
	return json.Marshal(statsBody{
		StartDate:    start.Format(ReportingDateLayout),
		EndDate:      end.Format(ReportingDateLayout),
		TimeInterval: int64(w.Interval / time.Second),
		TimeZone:     loc.String(),
	})
}

// QueueStats is one row of agg-queue-stats: one queue's numbers over one interval. The metrics
// (answIxnCnt, abandIxnCnt, talkingIxnDur, ...) are in Raw, as sent.
type QueueStats struct {
	// DateTimeFrom is the interval's start as sent ("03-04-2024T01:00:00"): wall-clock time in
	// the request's timeZone, in an order (month-day or day-month) the documents leave open.
	DateTimeFrom string
	Interval     *int64  // interval, as sent
	QueueID      int64   // queue (the queue's gateId), required
	QueueName    *string // queueName
	Raw          json.RawMessage
}

// UnmarshalJSON implements json.Unmarshaler; Raw keeps the object as received.
func (q *QueueStats) UnmarshalJSON(b []byte) error {
	var w struct {
		DateTimeFrom nullStr   `json:"dateTimeFrom"`
		Interval     nullInt64 `json:"interval"`
		Queue        nullInt64 `json:"queue"`
		QueueName    nullStr   `json:"queueName"`
	}
	if err := unmarshalObject(b, &w, "queue stats row"); err != nil {
		return err
	}
	if !w.Queue.Valid {
		return errors.New("queue is missing")
	}
	raw, err := rawOf(b)
	if err != nil {
		return err
	}
	*q = QueueStats{
		DateTimeFrom: w.DateTimeFrom.String,
		Interval:     w.Interval.Ptr(),
		QueueID:      w.Queue.Int64,
		QueueName:    w.QueueName.Ptr(),
		Raw:          raw,
	}
	return nil
}
