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

// The integration reporting endpoints, each the last segment of
// POST {engage}/voice/api/cx/integration/v1/accounts/{rcAccountId}/sub-accounts/{subAccountId}/.
const (
	endpointSegments        = "interaction-metadata"
	endpointQueueStats      = "agg-queue-stats"
	endpointAgentStats      = "agg-agent-stats"
	endpointAgentQueueStats = "agg-agent-extended-stats"
)

// ReportingMaxSegmentsInterval is the longest window one interaction-metadata request may
// cover (timeInterval at most 10800 seconds).
const ReportingMaxSegmentsInterval = 3 * time.Hour

// SegmentsWindow is the body of an interaction-metadata request: the segments of
// [Start, Start+Interval).
type SegmentsWindow struct {
	Start    time.Time      // segmentEndTime, required: the window's start, despite the name
	Interval time.Duration  // timeInterval, whole seconds from 1 s to ReportingMaxSegmentsInterval
	Location *time.Location // timeZone: the zone Start is written in and the report is made in; nil for UTC
}

// segmentsBody is the InteractionMetadataRequest request object.
type segmentsBody struct {
	SegmentEndTime string `json:"segmentEndTime"`
	TimeInterval   int64  `json:"timeInterval"`
	TimeZone       string `json:"timeZone"`
}

// body checks w and renders it.
func (w *SegmentsWindow) body() ([]byte, error) {
	if w == nil {
		return nil, errors.New("no window")
	}
	loc := w.Location
	if loc == nil {
		loc = time.UTC
	}
	if w.Start.IsZero() {
		return nil, errors.New("invalid window: segmentEndTime (Start) is required")
	}
	if w.Interval < time.Second || w.Interval > ReportingMaxSegmentsInterval || w.Interval%time.Second != 0 {
		return nil, fmt.Errorf("invalid timeInterval %s: expected whole seconds from 1 to %d", w.Interval, int64(ReportingMaxSegmentsInterval/time.Second))
	}
	return json.Marshal(segmentsBody{
		SegmentEndTime: w.Start.In(loc).Format(ReportingDateLayout),
		TimeInterval:   int64(w.Interval / time.Second),
		TimeZone:       loc.String(),
	})
}

// ReadInteractionSegments reads the interaction segments of one sub-account in window w
// (interaction-metadata, the "Agent Segment Metadata report"). rcAccountID is the RingCentral
// account id (the main account's rcAccountId), not an Engage id. Like every integration
// reporting call it is paced by the sub-account's reporting bucket (Config.ReportingLimits),
// not by the admin limiter; it answers 403 (an *APIError) when the sub-account lacks "WEM
// Access". Retries apply until a successful response arrives; its items are then read as the
// caller ranges over them.
func (c *Client) ReadInteractionSegments(ctx context.Context, rcAccountID, subAccountID string, w *SegmentsWindow) (*Items[InteractionSegment], error) {
	body, err := w.body()
	if err != nil {
		return nil, fmt.Errorf("reading interaction segments: %w", err)
	}
	it, _, err := readReporting[InteractionSegment](ctx, c, rcAccountID, subAccountID, endpointSegments, body)
	if err != nil {
		return nil, fmt.Errorf("reading interaction segments: %w", err)
	}
	return it, nil
}

// ReadQueueStats reads the queue statistics of one sub-account (agg-queue-stats), one row per
// queue and interval of w, paced and read as ReadInteractionSegments is.
func (c *Client) ReadQueueStats(ctx context.Context, rcAccountID, subAccountID string, w *StatsWindow) (*Items[QueueStats], error) {
	it, _, err := readStats[QueueStats](ctx, c, rcAccountID, subAccountID, endpointQueueStats, w)
	if err != nil {
		return nil, fmt.Errorf("reading queue stats: %w", err)
	}
	return it, nil
}

// ReadAgentStats reads the agent statistics of one sub-account (agg-agent-stats), one row per
// agent and interval of w, paced and read as ReadInteractionSegments is.
func (c *Client) ReadAgentStats(ctx context.Context, rcAccountID, subAccountID string, w *StatsWindow) (*Items[AgentStats], error) {
	it, _, err := readStats[AgentStats](ctx, c, rcAccountID, subAccountID, endpointAgentStats, w)
	if err != nil {
		return nil, fmt.Errorf("reading agent stats: %w", err)
	}
	return it, nil
}

// ReadAgentQueueStats reads the statistics of each agent in each queue of one sub-account
// (agg-agent-extended-stats), one row per agent, queue and interval of w, paced and read as
// ReadInteractionSegments is.
func (c *Client) ReadAgentQueueStats(ctx context.Context, rcAccountID, subAccountID string, w *StatsWindow) (*Items[AgentQueueStats], error) {
	it, _, err := readStats[AgentQueueStats](ctx, c, rcAccountID, subAccountID, endpointAgentQueueStats, w)
	if err != nil {
		return nil, fmt.Errorf("reading agent queue stats: %w", err)
	}
	return it, nil
}

// ListQueueStats returns the queue statistics of one sub-account, one row per queue and
// interval of w, as ReadQueueStats reads them (paced by the sub-account's reporting bucket),
// collected. When some rows cannot be decoded, the others are returned with an error matching
// *ItemsError. Prefer ReadQueueStats for large windows: this holds every row in memory.
func (c *Client) ListQueueStats(ctx context.Context, rcAccountID, subAccountID string, w *StatsWindow) ([]*QueueStats, *Response, error) {
	it, resp, err := readStats[QueueStats](ctx, c, rcAccountID, subAccountID, endpointQueueStats, w)
	if err != nil {
		return nil, resp, fmt.Errorf("listing queue stats: %w", err)
	}
	items, err := it.collect()
	if err != nil {
		return items, it.Response(), fmt.Errorf("listing queue stats of sub-account %s: %w", subAccountID, err)
	}
	return items, it.Response(), nil
}

// readStats sends the aggregate-statistics request of endpoint for window w.
func readStats[T any](ctx context.Context, c *Client, rcAccountID, subAccountID, endpoint string, w *StatsWindow) (*Items[T], *Response, error) {
	body, err := w.body()
	if err != nil {
		return nil, nil, err
	}
	return readReporting[T](ctx, c, rcAccountID, subAccountID, endpoint, body)
}

// readReporting sends the integration reporting request of endpoint with the JSON body through
// the sub-account's bucket and returns its successful response's items, unread. On failure the
// last response received comes with the error (its body read and closed).
func readReporting[T any](ctx context.Context, c *Client, rcAccountID, subAccountID, endpoint string, body []byte) (*Items[T], *Response, error) {
	r, err := c.reportingRequest(rcAccountID, subAccountID, endpoint, body)
	if err != nil {
		return nil, nil, err
	}
	httpResp, err := c.doReporting(ctx, subAccountID, r)
	var resp *Response
	if httpResp != nil {
		resp = &Response{Response: httpResp, Pages: 1}
	}
	if err != nil {
		return nil, resp, fmt.Errorf("sub-account %s: %w", subAccountID, err)
	}
	return newItems[T](ctx, c.wire, r, resp), resp, nil
}

// reportingRequest builds the request of an integration reporting endpoint (the last path
// segment) with the JSON body.
func (c *Client) reportingRequest(rcAccountID, subAccountID, endpoint string, body []byte) (*request, error) {
	if err := checkSubAccountID(subAccountID); err != nil {
		return nil, err
	}
	switch rcAccountID {
	case "", ".", "..":
		return nil, fmt.Errorf("invalid rcAccountId %q: expected the RingCentral account id", rcAccountID)
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

// InteractionSegment is one item of interaction-metadata (the spec's WEMDialogSegmentMetaData):
// one participant's segment of an interaction (a dialog). Raw keeps the object as received,
// segmentEvents and any field not typed here included.
type InteractionSegment struct {
	SegmentID              string  // segmentId: unique within the dialog, required
	SubAccountID           *string // subAccountId
	DialogID               *string // dialogId: the interaction, start to end
	InteractionID          *string // interactionId: the UII joining the segments of transfers and conferences
	ChannelID              *string // channelId
	ChannelType            *string // channelType: VOICE, MVP_CALL, EMAIL, SMS, …
	ChannelClass           *string // channelClass: VOICE or DIGITAL
	ChannelEndpointAddress *string // channelEndpointAddress: the ANI
	ContactEndpointAddress *string // contactEndpointAddress: the DNIS
	DialogOrigination      *string // dialogOrigination: INBOUND or OUTBOUND, from the agent's view
	// DialogStart and DialogEnd are dialogStartTimeMs and dialogEndTimeMs: ISO date-time strings
	// ("2024-07-22T11:24:40.000Z") despite the names. [I] Epoch milliseconds (a number or a
	// numeric string) are read too, and a value no layout reads gives nil.
	DialogStart, DialogEnd *time.Time
	DialogDurationMs       *int64  // dialogDurationMs
	SegmentType            *string // segmentType: AGENT, BOT, IVR
	SegmentParticipantID   *string // segmentParticipantId
	// SegmentParticipantRCExtensionID is segmentParticipantRcExtensionId.
	SegmentParticipantRCExtensionID *string
	SegmentStart, SegmentEnd        *time.Time // segmentStartTimeMs, segmentEndTimeMs: as DialogStart
	SegmentDurationMs               *int64     // segmentDurationMs
	SegmentAgentGroupID             *string    // segmentAgentGroupId
	SystemDisposition               *string    // systemDisposition, e.g. ANSWER
	AgentDisposition                *string    // agentDisposition
	AgentNotes                      *string    // agentNotes: free text (personal data)
	HasRecording, HasTranscript     *bool      // hasRecording, hasTranscript
	Raw                             json.RawMessage
}

// UnmarshalJSON implements json.Unmarshaler; Raw keeps the object as received.
func (s *InteractionSegment) UnmarshalJSON(b []byte) error {
	var w struct {
		SegmentID                       nullStr   `json:"segmentId"`
		SubAccountID                    nullStr   `json:"subAccountId"`
		DialogID                        nullStr   `json:"dialogId"`
		InteractionID                   nullStr   `json:"interactionId"`
		ChannelID                       nullStr   `json:"channelId"`
		ChannelType                     nullStr   `json:"channelType"`
		ChannelClass                    nullStr   `json:"channelClass"`
		ChannelEndpointAddress          nullStr   `json:"channelEndpointAddress"`
		ContactEndpointAddress          nullStr   `json:"contactEndpointAddress"`
		DialogOrigination               nullStr   `json:"dialogOrigination"`
		DialogStart                     Time      `json:"dialogStartTimeMs"`
		DialogEnd                       Time      `json:"dialogEndTimeMs"`
		DialogDurationMs                nullInt64 `json:"dialogDurationMs"`
		SegmentType                     nullStr   `json:"segmentType"`
		SegmentParticipantID            nullStr   `json:"segmentParticipantId"`
		SegmentParticipantRCExtensionID nullStr   `json:"segmentParticipantRcExtensionId"`
		SegmentStart                    Time      `json:"segmentStartTimeMs"`
		SegmentEnd                      Time      `json:"segmentEndTimeMs"`
		SegmentDurationMs               nullInt64 `json:"segmentDurationMs"`
		SegmentAgentGroupID             nullStr   `json:"segmentAgentGroupId"`
		SystemDisposition               nullStr   `json:"systemDisposition"`
		AgentDisposition                nullStr   `json:"agentDisposition"`
		AgentNotes                      nullStr   `json:"agentNotes"`
		HasRecording                    nullBool  `json:"hasRecording"`
		HasTranscript                   nullBool  `json:"hasTranscript"`
	}
	if err := unmarshalObject(b, &w, "interaction segment"); err != nil {
		return err
	}
	if !w.SegmentID.Valid || w.SegmentID.String == "" {
		return errors.New("segmentId is missing")
	}
	raw, err := rawOf(b)
	if err != nil {
		return err
	}
	*s = InteractionSegment{
		SegmentID:                       w.SegmentID.String,
		SubAccountID:                    w.SubAccountID.Ptr(),
		DialogID:                        w.DialogID.Ptr(),
		InteractionID:                   w.InteractionID.Ptr(),
		ChannelID:                       w.ChannelID.Ptr(),
		ChannelType:                     w.ChannelType.Ptr(),
		ChannelClass:                    w.ChannelClass.Ptr(),
		ChannelEndpointAddress:          w.ChannelEndpointAddress.Ptr(),
		ContactEndpointAddress:          w.ContactEndpointAddress.Ptr(),
		DialogOrigination:               w.DialogOrigination.Ptr(),
		DialogStart:                     w.DialogStart.Ptr(),
		DialogEnd:                       w.DialogEnd.Ptr(),
		DialogDurationMs:                w.DialogDurationMs.Ptr(),
		SegmentType:                     w.SegmentType.Ptr(),
		SegmentParticipantID:            w.SegmentParticipantID.Ptr(),
		SegmentParticipantRCExtensionID: w.SegmentParticipantRCExtensionID.Ptr(),
		SegmentStart:                    w.SegmentStart.Ptr(),
		SegmentEnd:                      w.SegmentEnd.Ptr(),
		SegmentDurationMs:               w.SegmentDurationMs.Ptr(),
		SegmentAgentGroupID:             w.SegmentAgentGroupID.Ptr(),
		SystemDisposition:               w.SystemDisposition.Ptr(),
		AgentDisposition:                w.AgentDisposition.Ptr(),
		AgentNotes:                      w.AgentNotes.Ptr(),
		HasRecording:                    w.HasRecording.Ptr(),
		HasTranscript:                   w.HasTranscript.Ptr(),
		Raw:                             raw,
	}
	return nil
}

// AgentStats is one row of agg-agent-stats: one agent's numbers over one interval. The metrics
// (availDur, totWorkDur, pauseDur, ...) are in Raw, as sent.
type AgentStats struct {
	DateTimeFrom string  // the interval's start as sent, as QueueStats.DateTimeFrom
	Interval     *int64  // interval, as sent
	AgentID      int64   // agentId, required
	AgentName    *string // agentName
	Raw          json.RawMessage
}

// UnmarshalJSON implements json.Unmarshaler; Raw keeps the object as received.
func (a *AgentStats) UnmarshalJSON(b []byte) error {
	var w struct {
		DateTimeFrom nullStr   `json:"dateTimeFrom"`
		Interval     nullInt64 `json:"interval"`
		AgentID      nullInt64 `json:"agentId"`
		AgentName    nullStr   `json:"agentName"`
	}
	if err := unmarshalObject(b, &w, "agent stats row"); err != nil {
		return err
	}
	if !w.AgentID.Valid {
		return errors.New("agentId is missing")
	}
	raw, err := rawOf(b)
	if err != nil {
		return err
	}
	*a = AgentStats{
		DateTimeFrom: w.DateTimeFrom.String,
		Interval:     w.Interval.Ptr(),
		AgentID:      w.AgentID.Int64,
		AgentName:    w.AgentName.Ptr(),
		Raw:          raw,
	}
	return nil
}

// AgentQueueStats is one row of agg-agent-extended-stats (the spec's
// ExtendedAggregatedQueueStats): one agent's numbers in one queue over one interval. The metrics
// (talkingIxnDur, wrapUpDur, answIxnCnt, transferOutIxnCnt) are in Raw, as sent.
type AgentQueueStats struct {
	DateTimeFrom string  // the interval's start as sent, as QueueStats.DateTimeFrom
	Interval     *int64  // interval, as sent
	AgentID      int64   // agentId, required
	QueueID      int64   // queue (the queue's gateId), required
	AgentName    *string // agentName
	QueueName    *string // queueName
	Raw          json.RawMessage
}

// UnmarshalJSON implements json.Unmarshaler; Raw keeps the object as received.
func (a *AgentQueueStats) UnmarshalJSON(b []byte) error {
	var w struct {
		DateTimeFrom nullStr   `json:"dateTimeFrom"`
		Interval     nullInt64 `json:"interval"`
		AgentID      nullInt64 `json:"agentId"`
		Queue        nullInt64 `json:"queue"`
		AgentName    nullStr   `json:"agentName"`
		QueueName    nullStr   `json:"queueName"`
	}
	if err := unmarshalObject(b, &w, "agent queue stats row"); err != nil {
		return err
	}
	switch {
	case !w.AgentID.Valid:
		return errors.New("agentId is missing")
	case !w.Queue.Valid:
		return errors.New("queue is missing")
	}
	raw, err := rawOf(b)
	if err != nil {
		return err
	}
	*a = AgentQueueStats{
		DateTimeFrom: w.DateTimeFrom.String,
		Interval:     w.Interval.Ptr(),
		AgentID:      w.AgentID.Int64,
		QueueID:      w.Queue.Int64,
		AgentName:    w.AgentName.Ptr(),
		QueueName:    w.QueueName.Ptr(),
		Raw:          raw,
	}
	return nil
}
