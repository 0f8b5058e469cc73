package config

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/evsync/evsync/internal/entity"
	"github.com/evsync/evsync/internal/oneline"
	"github.com/evsync/evsync/internal/suggest"
	syncrun "github.com/evsync/evsync/sync"
)

// Streams is the streams section (docs/configuration.md): which streams a run reads, how their
// windows are cut and when each is read, how the reporting requests are paced, which columns
// are never stored, and when the daemon looks for due windows. A tenant overrides it key by
// key, as the other sections.
type Streams struct {
	// Enabled are the streams a run reads (empty: none).
	Enabled []entity.Name `yaml:"enabled"`
	// Start is where a stream with no ledger begins: the window that holds it.
	Start StreamStart `yaml:"start"`
	// Window sizes the reporting streams' windows (30m, 1h or 3h).
	Window time.Duration `yaml:"window"`
	// AuditWindow sizes audit_log's windows (a divisor of 24h).
	AuditWindow time.Duration `yaml:"audit_window"`
	// FirstDelay is how long after its end a window is due for its first read.
	FirstDelay time.Duration `yaml:"first_delay"`
	// SettleAfter is how long after its end a window is due for its settle read (0: never).
	SettleAfter time.Duration `yaml:"settle_after"`
	// TimeZone is the IANA zone the reporting requests are written in (Location loads it).
	TimeZone string `yaml:"time_zone"`
	// ReportingLimits are the limits of one sub-account's reporting bucket, all of which
	// hold at once.
	ReportingLimits []RateLimit `yaml:"reporting_limits"`
	// Redact are the columns stored as NULL and removed from raw (RedactableColumns).
	Redact []string `yaml:"redact"`
	// Schedule is the cron spec the daemon looks for due windows on, read as schedule.cron
	// is but always with 5 fields (Tenant.StreamsSchedule).
	Schedule string `yaml:"schedule"`
}

// The streams' defaults and bounds (docs/configuration.md): the engine's own (sync), and those
// of the keys only the application reads.
const (
	// StreamsStartDefault is how far back a stream with no ledger begins.
	StreamsStartDefault = 72 * time.Hour
	// StreamsWindowDefault is the reporting streams' window, also its maximum: the
	// reporting API's timeInterval is at most 10800 seconds.
	StreamsWindowDefault = syncrun.WindowDefault
	// StreamsAuditWindowDefault is audit_log's window.
	StreamsAuditWindowDefault = syncrun.AuditWindowDefault
	// StreamsFirstDelayDefault is how long after its end a window is first read.
	StreamsFirstDelayDefault = syncrun.FirstDelayDefault
	// StreamsFirstDelayMin is the least first delay: the API refuses windows that end less
	// than 5 minutes ago.
	StreamsFirstDelayMin = syncrun.FirstDelayFloor
	// StreamsSettleAfterDefault is how long after its end a window is read again, settled.
	StreamsSettleAfterDefault = syncrun.SettleAfterDefault
	// StreamsTimeZoneDefault is the zone the reporting requests are written in.
	StreamsTimeZoneDefault = "UTC"
	// StreamsScheduleDefault is when the daemon looks for each tenant's due windows.
	StreamsScheduleDefault = "*/15 * * * *"
)

// StreamsWindows are the values streams.window may take: divisors of a day, of at most the
// API's 3 hours.
func StreamsWindows() []time.Duration {
	return []time.Duration{30 * time.Minute, time.Hour, 3 * time.Hour}
}

// RedactableColumns are the columns streams.redact may list: the personal data the streams'
// tables hold.
func RedactableColumns() []string { return []string{"ani", "dnis", "agent_notes", "source_ip"} }

// defaultStreams returns the streams section's defaults. Its lists are fresh: no two
// configurations share them.
func defaultStreams() Streams {
	return Streams{
		Enabled:     []entity.Name{entity.AuditLog},
		Start:       StreamStart{Ago: StreamsStartDefault},
		Window:      StreamsWindowDefault,
		AuditWindow: StreamsAuditWindowDefault,
		FirstDelay:  StreamsFirstDelayDefault,
		SettleAfter: StreamsSettleAfterDefault,
		TimeZone:    StreamsTimeZoneDefault,
		// The reporting API's documented limits, per sub-account.
		ReportingLimits: []RateLimit{{Count: 3, Per: time.Minute}, {Count: 9, Per: 15 * time.Minute}},
		Redact:          []string{},
		Schedule:        StreamsScheduleDefault,
	}
}

// clone returns s with lists of its own, so that a tenant's copy of the top level shares none.
func (s Streams) clone() Streams {
	s.Enabled = slices.Clone(s.Enabled)
	s.ReportingLimits = slices.Clone(s.ReportingLimits)
	s.Redact = slices.Clone(s.Redact)
	return s
}

// Location loads TimeZone. Validate has checked it loads; the error is for a Streams built
// without Validate.
func (s Streams) Location() (*time.Location, error) {
	loc, err := time.LoadLocation(s.TimeZone)
	// "Local" loads the machine's zone, whose name the API would not know.
	if err != nil || s.TimeZone == "" || s.TimeZone == "Local" {
		return nil, fmt.Errorf("loading streams.time_zone %q: not an IANA time zone name", s.TimeZone)
	}
	return loc, nil
}

// Redacts reports whether streams.redact lists the column.
func (s Streams) Redacts(column string) bool { return slices.Contains(s.Redact, column) }

// StreamsSchedule is the schedule the daemon looks for t's due windows on: streams.schedule,
// read as schedule.cron is without schedule.seconds (5 fields or a descriptor: a due check
// each minute at most is plenty, and schedule.seconds, for tests of the entity schedule, then
// leaves the default "*/15 * * * *" valid), in schedule.timezone; its other keys are
// t.Schedule's. Parse it with Schedule.Parse.
func (t Tenant) StreamsSchedule() Schedule {
	s := t.Schedule
	s.Cron, s.Seconds = t.Streams.Schedule, false
	return s
}

// StreamStart is streams.start: a duration back from now (Ago) or a moment (At), exactly one
// of them set. In a file or a variable it is a Go duration, whole days with d ("72h", "30d",
// "1d12h"), a date ("2026-11-01", midnight UTC: windows are aligned in UTC) or an RFC 3339
// time.
type StreamStart struct {
	Ago time.Duration
	At  time.Time
}

// Time returns the moment s names, seen at now.
func (s StreamStart) Time(now time.Time) time.Time {
	if !s.At.IsZero() {
		return s.At
	}
	return now.Add(-s.Ago)
}

// String writes s as the file would: the duration in hours ("72h"), or the date, or the RFC
// 3339 time when it is not a UTC midnight.
func (s StreamStart) String() string {
	switch {
	case !s.At.IsZero() && s.At.Location() == time.UTC && s.At.Equal(s.At.Truncate(24*time.Hour)):
		return s.At.Format(time.DateOnly)
	case !s.At.IsZero():
		return s.At.Format(time.RFC3339)
	default:
		return oneline.Duration(s.Ago)
	}
}

// MarshalYAML writes s as String does, so the masked output loads back.
func (s StreamStart) MarshalYAML() (any, error) { return s.String(), nil }

// UnmarshalYAML reads a scalar with ParseStreamStart.
func (s *StreamStart) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return &valueError{streamStartExpected}
	}
	v, err := ParseStreamStart(n.Value)
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// streamStartExpected says what streams.start must be, for its errors.
const streamStartExpected = `must be a duration back from now like "72h" or "30d", or a date like "2026-11-01" or an RFC 3339 time`

// ParseStreamStart reads a start as streams.start takes it (and `backfill --since` may): a Go
// duration back from now, whole days allowed as d ("30d", "1d12h"), a date (midnight UTC) or
// an RFC 3339 time. It checks the syntax only; Validate checks that a duration is positive
// and a date past.
func ParseStreamStart(s string) (StreamStart, error) {
	s = strings.TrimSpace(s)
	if d, err := parseDurationDays(s); err == nil {
		return StreamStart{Ago: d}, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return StreamStart{At: t}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return StreamStart{At: t}, nil
	}
	return StreamStart{}, &valueError{fmt.Sprintf("%s, got %q", streamStartExpected, s)}
}

// daysPrefix is a duration's leading whole days: "30d", "1d12h".
var daysPrefix = regexp.MustCompile(`^(\d{1,5})d`)

// parseDurationDays reads a Go duration that may start with whole days (d, 24 hours: the
// windows are in UTC, which has no daylight saving).
func parseDurationDays(s string) (time.Duration, error) {
	m := daysPrefix.FindStringSubmatch(s)
	if m == nil {
		return time.ParseDuration(s)
	}
	days, _ := strconv.Atoi(m[1]) // at most 5 digits, by daysPrefix
	d := time.Duration(days) * 24 * time.Hour
	if rest := s[len(m[0]):]; rest != "" {
		r, err := time.ParseDuration(rest)
		if err != nil || r < 0 {
			return 0, fmt.Errorf("bad duration %q", s)
		}
		d += r
	}
	return d, nil
}

// RateLimit is one limit of a request budget: at most Count requests in any Per. In a file
// or a variable it is "COUNT/DURATION": "3/60s", "9/15m".
type RateLimit struct {
	Count int           `yaml:"count"`
	Per   time.Duration `yaml:"per"`
}

// String writes l as the file would: "3/1m".
func (l RateLimit) String() string { return strconv.Itoa(l.Count) + "/" + oneline.Duration(l.Per) }

// MarshalYAML writes l as String does, so the masked output loads back.
func (l RateLimit) MarshalYAML() (any, error) { return l.String(), nil }

// UnmarshalYAML reads a scalar with ParseRateLimit.
func (l *RateLimit) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return &valueError{rateLimitExpected}
	}
	v, err := ParseRateLimit(n.Value)
	if err != nil {
		return err
	}
	*l = v
	return nil
}

// rateLimitExpected says what a limit must be, for its errors.
const rateLimitExpected = `must be a list of COUNT/DURATION limits like ["3/60s", "9/15m"]`

// ParseRateLimit reads "COUNT/DURATION" ("3/60s"). It checks the syntax only; Validate checks
// that the count is at least 1 and the duration positive.
func ParseRateLimit(s string) (RateLimit, error) {
	count, per, ok := strings.Cut(strings.TrimSpace(s), "/")
	n, err := strconv.Atoi(strings.TrimSpace(count))
	if !ok || err != nil {
		return RateLimit{}, &valueError{fmt.Sprintf("%s, got %q", rateLimitExpected, s)}
	}
	d, err := time.ParseDuration(strings.TrimSpace(per))
	if err != nil {
		return RateLimit{}, &valueError{fmt.Sprintf("%s, got %q", rateLimitExpected, s)}
	}
	return RateLimit{Count: n, Per: d}, nil
}

// valueError is what a value of a typed key (StreamStart, RateLimit) must be, and what it
// got: the file's and the environment's errors write it after the key.
type valueError struct{ msg string }

func (e *valueError) Error() string { return e.msg }

// asValueError returns err's valueError message, if it has one.
func asValueError(err error) (string, bool) {
	var ve *valueError
	if errors.As(err, &ve) {
		return ve.msg, true
	}
	return "", false
}

// validateStreams checks the streams section of the tenant t (the top level's, or an
// entry's) at now: its schedule is read in t's schedule.timezone.
func validateStreams(t Tenant, now time.Time, bad problemFunc) {
	s := t.Streams
	seen := map[entity.Name]bool{}
	for _, n := range s.Enabled {
		switch _, err := entity.ParseStream(string(n)); {
		case err != nil:
			bad("streams.enabled", "unknown stream %q%s, expected some of %s (or [] for none)", n,
				didYouMean(string(n), strings.Split(StreamNames(","), ",")), StreamNames(", "))
		case seen[n]:
			bad("streams.enabled", "stream %q is listed twice", n)
		}
		seen[n] = true
	}
	switch st := s.Start; {
	case st.At.IsZero() && st.Ago <= 0:
		bad("streams.start", "%s, got %q", streamStartExpected, st.String())
	case !st.At.IsZero() && st.At.After(now):
		bad("streams.start", "must be a past date or time, got %q", st.String())
	}
	if !slices.Contains(StreamsWindows(), s.Window) {
		bad("streams.window", "must be 30m, 1h or 3h (the reporting API reads at most 3 hours at once), got %q", s.Window)
	}
	if w := s.AuditWindow; w < time.Minute || w > 24*time.Hour || (24*time.Hour)%w != 0 {
		bad("streams.audit_window", "must be a duration from 1m to 24h that divides 24h evenly (like 1h, 30m or 6h), got %q", w)
	}
	if s.FirstDelay < StreamsFirstDelayMin {
		bad("streams.first_delay", "must be at least 5m (the API refuses windows that end less than 5 minutes ago), got %q", s.FirstDelay)
	}
	if d := s.SettleAfter; d != 0 && (d < 0 || d < s.FirstDelay) {
		bad("streams.settle_after", "must be 0 (no settle reads) or at least streams.first_delay (%s), got %q", s.FirstDelay, d)
	}
	if _, err := s.Location(); err != nil {
		bad("streams.time_zone", "must be an IANA time zone name like UTC or America/New_York, got %q", s.TimeZone)
	}
	if len(s.ReportingLimits) == 0 {
		bad("streams.reporting_limits", "must list at least one COUNT/DURATION limit like \"3/60s\"")
	}
	for _, l := range s.ReportingLimits {
		if l.Count < 1 || l.Per <= 0 {
			bad("streams.reporting_limits", "limit %q: the count must be at least 1 and the duration positive", l.String())
		}
	}
	seenCol := map[string]bool{}
	for _, c := range s.Redact {
		switch {
		case !slices.Contains(RedactableColumns(), c):
			bad("streams.redact", "unknown column %q%s, expected some of %s", c,
				didYouMean(c, RedactableColumns()), strings.Join(RedactableColumns(), ", "))
		case seenCol[c]:
			bad("streams.redact", "column %q is listed twice", c)
		}
		seenCol[c] = true
	}
	sched := t.StreamsSchedule()
	loc, err := time.LoadLocation(sched.Timezone)
	if err != nil {
		loc = time.UTC // schedule.timezone's own problem, reported there
	}
	if err := sched.checkCron(now.In(loc)); err != nil {
		bad("streams.schedule", "%v", err)
	}
}

// didYouMean is ` (did you mean "x"?)` for the candidate nearest to name, or "".
func didYouMean(name string, candidates []string) string {
	if s := suggest.Closest(name, candidates); s != "" {
		return fmt.Sprintf(" (did you mean %q?)", s)
	}
	return ""
}
