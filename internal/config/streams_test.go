package config_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/evsync/evsync/internal/config"
	"github.com/evsync/evsync/internal/entity"
	"github.com/evsync/evsync/internal/testing/fixture"
	"github.com/evsync/evsync/internal/testing/fixture/configtest"
)

// The streams' defaults are the documented ones, valid, and their lists are each config's own.
func TestStreamsDefaults(t *testing.T) {
	t.Parallel()
	want := config.Streams{
		Enabled:         []entity.Name{entity.AuditLog},
		Start:           config.StreamStart{Ago: 72 * time.Hour},
		Window:          3 * time.Hour,
		AuditWindow:     time.Hour,
		FirstDelay:      20 * time.Minute,
		SettleAfter:     24 * time.Hour,
		TimeZone:        "UTC",
		ReportingLimits: []config.RateLimit{{Count: 3, Per: 60 * time.Second}, {Count: 9, Per: 15 * time.Minute}},
		Redact:          []string{},
		Schedule:        "*/15 * * * *",
	}
	c := config.Default()
	if diff := cmp.Diff(want, c.Streams); diff != "" {
		t.Errorf("default streams (-want +got):\n%s", diff)
	}
	if err := c.Validate(); err != nil {
		t.Fatalf("validate: %v", err)
	}
	c.Streams.Enabled[0] = "changed"
	c.Streams.ReportingLimits[0].Count = 99
	if d := config.Default().Streams; d.Enabled[0] != entity.AuditLog || d.ReportingLimits[0].Count != 3 {
		t.Error("config.Default shares its streams lists")
	}
	if loc, err := config.Default().Streams.Location(); err != nil || loc != time.UTC {
		t.Errorf("Location() = %v, %v; want UTC", loc, err)
	}
}

// Every problem of a streams key is one line naming the key and what was expected.
func TestStreamsValidateErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		mutate  func(s *config.Streams)
		wantErr string // the whole error
	}{
		{"unknown stream", func(s *config.Streams) { s.Enabled = []entity.Name{"audit_logs"} },
			`config: streams.enabled: unknown stream "audit_logs" (did you mean "audit_log"?), expected some of audit_log, interaction_segments, queue_stats, agent_stats, agent_queue_stats (or [] for none)`},
		{"far stream", func(s *config.Streams) { s.Enabled = []entity.Name{"calls"} },
			`config: streams.enabled: unknown stream "calls", expected some of audit_log, interaction_segments, queue_stats, agent_stats, agent_queue_stats (or [] for none)`},
		{"stream twice", func(s *config.Streams) { s.Enabled = []entity.Name{entity.AuditLog, entity.AuditLog} },
			`config: streams.enabled: stream "audit_log" is listed twice`},
		{"start zero", func(s *config.Streams) { s.Start = config.StreamStart{} },
			`config: streams.start: must be a duration back from now like "72h" or "30d", or a date like "2026-11-01" or an RFC 3339 time, got "0s"`},
		{"start negative", func(s *config.Streams) { s.Start = config.StreamStart{Ago: -time.Hour} },
			`config: streams.start: must be a duration back from now like "72h" or "30d", or a date like "2026-11-01" or an RFC 3339 time, got "-1h"`},
		{"start future", func(s *config.Streams) { s.Start = config.StreamStart{At: time.Date(2999, 1, 2, 0, 0, 0, 0, time.UTC)} },
			`config: streams.start: must be a past date or time, got "2999-01-02"`},
		{"window 2h", func(s *config.Streams) { s.Window = 2 * time.Hour },
			`config: streams.window: must be 30m, 1h or 3h (the reporting API reads at most 3 hours at once), got "2h0m0s"`},
		{"window 6h", func(s *config.Streams) { s.Window = 6 * time.Hour },
			`config: streams.window: must be 30m, 1h or 3h (the reporting API reads at most 3 hours at once), got "6h0m0s"`},
		{"audit window uneven", func(s *config.Streams) { s.AuditWindow = 7 * time.Hour },
			`config: streams.audit_window: must be a duration from 1m to 24h that divides 24h evenly (like 1h, 30m or 6h), got "7h0m0s"`},
		{"audit window short", func(s *config.Streams) { s.AuditWindow = 30 * time.Second },
			`config: streams.audit_window: must be a duration from 1m to 24h that divides 24h evenly (like 1h, 30m or 6h), got "30s"`},
		{"audit window long", func(s *config.Streams) { s.AuditWindow = 48 * time.Hour },
			`config: streams.audit_window: must be a duration from 1m to 24h that divides 24h evenly (like 1h, 30m or 6h), got "48h0m0s"`},
		{"first delay short", func(s *config.Streams) { s.FirstDelay = 4 * time.Minute },
			`config: streams.first_delay: must be at least 5m (the API refuses windows that end less than 5 minutes ago), got "4m0s"`},
		{"settle before first", func(s *config.Streams) { s.SettleAfter = 10 * time.Minute },
			`config: streams.settle_after: must be 0 (no settle reads) or at least streams.first_delay (20m0s), got "10m0s"`},
		{"settle negative", func(s *config.Streams) { s.SettleAfter = -time.Hour },
			`config: streams.settle_after: must be 0 (no settle reads) or at least streams.first_delay (20m0s), got "-1h0m0s"`},
		{"time zone", func(s *config.Streams) { s.TimeZone = "Mars/Olympus" },
			`config: streams.time_zone: must be an IANA time zone name like UTC or America/New_York, got "Mars/Olympus"`},
		{"time zone Local", func(s *config.Streams) { s.TimeZone = "Local" },
			`config: streams.time_zone: must be an IANA time zone name like UTC or America/New_York, got "Local"`},
		{"time zone empty", func(s *config.Streams) { s.TimeZone = "" },
			`config: streams.time_zone: must be an IANA time zone name like UTC or America/New_York, got ""`},
		{"no limits", func(s *config.Streams) { s.ReportingLimits = nil },
			`config: streams.reporting_limits: must list at least one COUNT/DURATION limit like "3/60s"`},
		{"limit count zero", func(s *config.Streams) { s.ReportingLimits = []config.RateLimit{{Count: 0, Per: time.Minute}} },
			`config: streams.reporting_limits: limit "0/1m": the count must be at least 1 and the duration positive`},
		{"limit per zero", func(s *config.Streams) { s.ReportingLimits = []config.RateLimit{{Count: 3, Per: 0}} },
			`config: streams.reporting_limits: limit "3/0s": the count must be at least 1 and the duration positive`},
		{"redact unknown", func(s *config.Streams) { s.Redact = []string{"agent_note"} },
			`config: streams.redact: unknown column "agent_note" (did you mean "agent_notes"?), expected some of ani, dnis, agent_notes, source_ip`},
		{"redact twice", func(s *config.Streams) { s.Redact = []string{"ani", "ani"} },
			`config: streams.redact: column "ani" is listed twice`},
		{"schedule garbage", func(s *config.Streams) { s.Schedule = "every quarter hour" },
			`config: streams.schedule: must be 5 fields (minute hour day-of-month month day-of-week) or a descriptor like @daily or @every 1h, got "every quarter hour": expected exactly 5 fields, found 3: [every quarter hour]`},
		{"schedule every short", func(s *config.Streams) { s.Schedule = "@every 30s" },
			`config: streams.schedule: an @every interval must be at least 1m (or 1s with schedule.seconds: true), got "@every 30s"`},
		{"schedule never", func(s *config.Streams) { s.Schedule = "0 0 30 2 *" },
			`config: streams.schedule: matches no time in the next 5 years (a date like February 30), so it would never run, got "0 0 30 2 *"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := config.Default()
			tt.mutate(&c.Streams)
			err := c.Validate()
			if err == nil {
				t.Fatal("validate: got nil error")
			}
			if err.Error() != tt.wantErr {
				t.Errorf("error:\n got %s\nwant %s", err, tt.wantErr)
			}
			configtest.CheckErr(t, err, nil)
		})
	}
}

func TestStreamsValidateAccepts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		mutate func(s *config.Streams)
	}{
		{"none enabled", func(s *config.Streams) { s.Enabled = []entity.Name{} }},
		{"nil enabled", func(s *config.Streams) { s.Enabled = nil }},
		{"start date", func(s *config.Streams) {
			s.Start = config.StreamStart{At: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}
		}},
		{"window 30m", func(s *config.Streams) { s.Window = 30 * time.Minute }},
		{"window 1h", func(s *config.Streams) { s.Window = time.Hour }},
		{"audit window 1m", func(s *config.Streams) { s.AuditWindow = time.Minute }},
		{"audit window 24h", func(s *config.Streams) { s.AuditWindow = 24 * time.Hour }},
		{"audit window 45m", func(s *config.Streams) { s.AuditWindow = 45 * time.Minute }},
		{"first delay 5m", func(s *config.Streams) { s.FirstDelay = 5 * time.Minute }},
		{"no settle reads", func(s *config.Streams) { s.SettleAfter = 0 }},
		{"settle at first delay", func(s *config.Streams) { s.SettleAfter = s.FirstDelay }},
		{"daylight saving zone", func(s *config.Streams) { s.TimeZone = "America/New_York" }},
		{"one limit", func(s *config.Streams) { s.ReportingLimits = []config.RateLimit{{Count: 1, Per: time.Second}} }},
		{"redact all", func(s *config.Streams) { s.Redact = config.RedactableColumns() }},
		{"schedule hourly", func(s *config.Streams) { s.Schedule = "@hourly" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := config.Default()
			tt.mutate(&c.Streams)
			if err := c.Validate(); err != nil {
				t.Errorf("validate: %v", err)
			}
		})
	}
}

// A value of a typed key that does not parse is an error at load, naming the key, the file and
// the line, or the variable; the empty list is written [] in a variable.
func TestStreamsLoadErrors(t *testing.T) {
	t.Parallel()
	fileTests := []struct {
		name, yaml, want string
	}{
		{"start", "streams:\n  start: last week\n",
			`config: streams.start: must be a duration back from now like "72h" or "30d", or a date like "2026-11-01" or an RFC 3339 time, got "last week" (c.yaml line 2)`},
		{"start list", "streams:\n  start: [72h]\n",
			`config: streams.start: must be a duration back from now like "72h" or "30d", or a date like "2026-11-01" or an RFC 3339 time (c.yaml line 2)`},
		{"start date without zone", "streams:\n  start: 2026-11-01T03:00:00\n",
			`config: streams.start: must be a duration back from now like "72h" or "30d", or a date like "2026-11-01" or an RFC 3339 time, got "2026-11-01T03:00:00" (c.yaml line 2)`},
		{"limit item", "streams:\n  reporting_limits: [3/60s, 9 per 15m]\n",
			`config: streams.reporting_limits: must be a list of COUNT/DURATION limits like ["3/60s", "9/15m"], got "9 per 15m" (c.yaml line 2)`},
		{"limit bad duration", "streams:\n  reporting_limits: [3/60]\n",
			`config: streams.reporting_limits: must be a list of COUNT/DURATION limits like ["3/60s", "9/15m"], got "3/60" (c.yaml line 2)`},
		{"limits scalar", "streams:\n  reporting_limits: 3/60s\n",
			`config: streams.reporting_limits: must be a list of COUNT/DURATION limits like ["3/60s", "9/15m"], got "3/60s" (c.yaml line 2)`},
		{"window not a duration", "streams:\n  window: 3\n",
			`config: streams.window: must be a duration like "60s" or "1h30m", got "3" (c.yaml line 2)`},
		{"unknown key", "streams:\n  windw: 1h\n",
			`config: unknown key "streams.windw" in c.yaml line 2 (did you mean "window"?)`},
		{"tenant's", "tenants:\n  - name: acme\n    streams: {start: soon}\n",
			`config: tenants[0].streams.start: must be a duration back from now like "72h" or "30d", or a date like "2026-11-01" or an RFC 3339 time, got "soon" (c.yaml line 3)`},
	}
	for _, tt := range fileTests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := fixture.WriteFile(t, "c.yaml", tt.yaml)
			_, err := config.Load(path, nil)
			if err == nil {
				t.Fatal("config.Load: got nil error")
			}
			if got := strings.ReplaceAll(err.Error(), path, "c.yaml"); got != tt.want {
				t.Errorf("error:\n got %s\nwant %s", got, tt.want)
			}
			configtest.CheckErr(t, err, nil)
		})
	}
	envTests := []struct {
		name, env, value, want string
	}{
		{"start", "EVSYNC_STREAMS_START", "3 days",
			`config: EVSYNC_STREAMS_START (streams.start): must be a duration back from now like "72h" or "30d", or a date like "2026-11-01" or an RFC 3339 time, got "3 days"`},
		{"start null", "EVSYNC_STREAMS_START", "null",
			`config: EVSYNC_STREAMS_START (streams.start): must be a duration back from now like "72h" or "30d", or a date like "2026-11-01" or an RFC 3339 time, got "null"`},
		{"limits", "EVSYNC_STREAMS_REPORTING_LIMITS", "3/60s,lots",
			`config: EVSYNC_STREAMS_REPORTING_LIMITS (streams.reporting_limits): must be a list of COUNT/DURATION limits like ["3/60s", "9/15m"], got "lots"`},
		{"first delay", "EVSYNC_STREAMS_FIRST_DELAY", "20",
			`config: EVSYNC_STREAMS_FIRST_DELAY (streams.first_delay): must be a duration like "60s" or "1h30m", got "20"`},
	}
	for _, tt := range envTests {
		t.Run("env "+tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := config.Load("", fixture.Env(map[string]string{tt.env: tt.value}))
			if err == nil || err.Error() != tt.want {
				t.Errorf("error:\n got %v\nwant %s", err, tt.want)
			}
		})
	}
}

// Each key's variable sets it to the value it names.
func TestStreamsEnvSetsEachKey(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		env, value string
		want       func(s *config.Streams)
	}{
		{"EVSYNC_STREAMS_ENABLED", "[]", func(s *config.Streams) { s.Enabled = []entity.Name{} }},
		{"EVSYNC_STREAMS_ENABLED", "audit_log", func(s *config.Streams) { s.Enabled = []entity.Name{entity.AuditLog} }},
		{"EVSYNC_STREAMS_START", "30d", func(s *config.Streams) { s.Start = config.StreamStart{Ago: 720 * time.Hour} }},
		{"EVSYNC_STREAMS_START", "1d12h", func(s *config.Streams) { s.Start = config.StreamStart{Ago: 36 * time.Hour} }},
		{"EVSYNC_STREAMS_START", "90m", func(s *config.Streams) { s.Start = config.StreamStart{Ago: 90 * time.Minute} }},
		{"EVSYNC_STREAMS_START", "2026-11-01", func(s *config.Streams) { s.Start = config.StreamStart{At: at} }},
		{"EVSYNC_STREAMS_START", "2026-11-01T03:00:00-05:00", func(s *config.Streams) {
			s.Start = config.StreamStart{At: time.Date(2026, 11, 1, 3, 0, 0, 0, time.FixedZone("", -5*3600))}
		}},
		{"EVSYNC_STREAMS_WINDOW", "30m", func(s *config.Streams) { s.Window = 30 * time.Minute }},
		{"EVSYNC_STREAMS_AUDIT_WINDOW", "6h", func(s *config.Streams) { s.AuditWindow = 6 * time.Hour }},
		{"EVSYNC_STREAMS_FIRST_DELAY", "1h", func(s *config.Streams) { s.FirstDelay = time.Hour }},
		{"EVSYNC_STREAMS_SETTLE_AFTER", "0", func(s *config.Streams) { s.SettleAfter = 0 }},
		{"EVSYNC_STREAMS_TIME_ZONE", "Europe/Berlin", func(s *config.Streams) { s.TimeZone = "Europe/Berlin" }},
		{"EVSYNC_STREAMS_REPORTING_LIMITS", "2/1m, 100/24h", func(s *config.Streams) {
			s.ReportingLimits = []config.RateLimit{{Count: 2, Per: time.Minute}, {Count: 100, Per: 24 * time.Hour}}
		}},
		{"EVSYNC_STREAMS_REDACT", "ani,dnis,agent_notes", func(s *config.Streams) { s.Redact = []string{"ani", "dnis", "agent_notes"} }},
		{"EVSYNC_STREAMS_SCHEDULE", "@every 5m", func(s *config.Streams) { s.Schedule = "@every 5m" }},
	}
	for _, tt := range tests {
		t.Run(tt.env+"="+tt.value, func(t *testing.T) {
			t.Parallel()
			got, err := config.Load("", fixture.Env(map[string]string{tt.env: tt.value}))
			if err != nil {
				t.Fatal(err)
			}
			want := config.Default().Streams
			tt.want(&want)
			if diff := cmp.Diff(want, got.Streams); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if err := got.Validate(); err != nil {
				t.Errorf("validate: %v", err)
			}
			key := strings.ToLower(strings.TrimPrefix(tt.env, "EVSYNC_STREAMS_"))
			if !got.IsSet("streams." + key) {
				t.Errorf("IsSet(streams.%s) = false", key)
			}
		})
	}
}

// A tenant's streams block overrides only the keys it names; the others are the top level's,
// which the file and the environment set.
func TestStreamsTenantOverridesKeyByKey(t *testing.T) {
	t.Parallel()
	top := `streams:
  start: 48h
  redact: [ani]
`
	tests := []struct {
		block string
		want  func(s *config.Streams)
	}{
		{"enabled: []", func(s *config.Streams) { s.Enabled = []entity.Name{} }},
		{"start: 2026-11-01", func(s *config.Streams) {
			s.Start = config.StreamStart{At: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}
		}},
		{"window: 1h", func(s *config.Streams) { s.Window = time.Hour }},
		{"audit_window: 15m", func(s *config.Streams) { s.AuditWindow = 15 * time.Minute }},
		{"first_delay: 30m", func(s *config.Streams) { s.FirstDelay = 30 * time.Minute }},
		{"settle_after: 48h", func(s *config.Streams) { s.SettleAfter = 48 * time.Hour }},
		{"settle_after: 0", func(s *config.Streams) { s.SettleAfter = 0 }},
		{"time_zone: Asia/Tokyo", func(s *config.Streams) { s.TimeZone = "Asia/Tokyo" }},
		{"reporting_limits: [1/10s]", func(s *config.Streams) { s.ReportingLimits = []config.RateLimit{{Count: 1, Per: 10 * time.Second}} }},
		{"redact: [source_ip, dnis]", func(s *config.Streams) { s.Redact = []string{"source_ip", "dnis"} }},
		{"schedule: '5 * * * *'", func(s *config.Streams) { s.Schedule = "5 * * * *" }},
	}
	for _, tt := range tests {
		t.Run(tt.block, func(t *testing.T) {
			t.Parallel()
			file := fixture.WriteFile(t, "c.yaml", top+"tenants:\n  - name: acme\n  - name: globex\n    streams: {"+tt.block+"}\n")
			c, err := config.Load(file, fixture.Env(map[string]string{"EVSYNC_STREAMS_FIRST_DELAY": "25m"}))
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Validate(); err != nil {
				t.Fatal(err)
			}
			inherited := config.Default().Streams
			inherited.Start = config.StreamStart{Ago: 48 * time.Hour}
			inherited.Redact = []string{"ani"}
			inherited.FirstDelay = 25 * time.Minute
			own := inherited
			tt.want(&own)
			ts := c.Tenants()
			if diff := cmp.Diff(inherited, ts[0].Streams); diff != "" {
				t.Errorf("acme, which sets no streams key (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(own, ts[1].Streams); diff != "" {
				t.Errorf("globex (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(inherited, c.Streams); diff != "" {
				t.Errorf("the top level (-want +got):\n%s", diff)
			}
		})
	}
}

// A tenant's bad streams key is reported as the tenant's; one it inherits, once, as the top
// level's.
func TestStreamsTenantErrors(t *testing.T) {
	t.Parallel()
	configtest.Validated(t, "streams:\n  redact: [phone]\ntenants:\n  - name: acme\n    streams: {window: 2h, first_delay: 25h}\n  - name: globex\n",
		`config: streams.redact: unknown column "phone", expected some of ani, dnis, agent_notes, source_ip`+"\n"+
			`config: tenants[0].streams.window: must be 30m, 1h or 3h (the reporting API reads at most 3 hours at once), got "2h0m0s"`+"\n"+
			`config: tenants[0].streams.settle_after: must be 0 (no settle reads) or at least streams.first_delay (25h0m0s), got "24h0m0s"`)
}

func TestParseStreamStart(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 6, 10, 30, 0, 0, time.UTC)
	tests := []struct {
		in       string
		want     config.StreamStart
		wantTime time.Time
		text     string // String: what the masked output writes
	}{
		{"72h", config.StreamStart{Ago: 72 * time.Hour}, now.Add(-72 * time.Hour), "72h"},
		{"30d", config.StreamStart{Ago: 30 * 24 * time.Hour}, now.AddDate(0, 0, -30), "720h"},
		{"1d12h30m", config.StreamStart{Ago: 36*time.Hour + 30*time.Minute}, now.Add(-36*time.Hour - 30*time.Minute), "36h30m"},
		{" 90s ", config.StreamStart{Ago: 90 * time.Second}, now.Add(-90 * time.Second), "1m30s"},
		{"2026-11-01", config.StreamStart{At: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), "2026-11-01"},
		{"2026-11-01T03:00:00Z", config.StreamStart{At: time.Date(2026, 11, 1, 3, 0, 0, 0, time.UTC)}, time.Date(2026, 11, 1, 3, 0, 0, 0, time.UTC), "2026-11-01T03:00:00Z"},
		{"2026-11-01T00:00:00+01:00", config.StreamStart{At: time.Date(2026, 10, 31, 23, 0, 0, 0, time.UTC)}, time.Date(2026, 10, 31, 23, 0, 0, 0, time.UTC), "2026-11-01T00:00:00+01:00"},
	}
	for _, tt := range tests {
		got, err := config.ParseStreamStart(tt.in)
		if err != nil {
			t.Errorf("ParseStreamStart(%q): %v", tt.in, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("ParseStreamStart(%q) (-want +got):\n%s", tt.in, diff)
		}
		if at := got.Time(now); !at.Equal(tt.wantTime) {
			t.Errorf("ParseStreamStart(%q).Time(now) = %v, want %v", tt.in, at, tt.wantTime)
		}
		if s := got.String(); s != tt.text {
			t.Errorf("ParseStreamStart(%q).String() = %q, want %q", tt.in, s, tt.text)
		}
		if back, err := config.ParseStreamStart(got.String()); err != nil || !back.Time(now).Equal(tt.wantTime) {
			t.Errorf("ParseStreamStart(%q) does not read back its String %q: %v, %v", tt.in, got.String(), back, err)
		}
	}
	for _, bad := range []string{"", "d", "3 days", "30d-1h", "1.5d", "2026-11-01T03:00:00", "11/01/2026", "-"} {
		if got, err := config.ParseStreamStart(bad); err == nil {
			t.Errorf("ParseStreamStart(%q) = %v, want an error", bad, got)
		}
	}
}

func TestParseRateLimit(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]config.RateLimit{
		"3/60s":    {Count: 3, Per: time.Minute},
		" 9 / 15m": {Count: 9, Per: 15 * time.Minute},
		"100/1h":   {Count: 100, Per: time.Hour},
		"0/1s":     {Count: 0, Per: time.Second}, // parses; Validate refuses it
	} {
		got, err := config.ParseRateLimit(in)
		if err != nil || got != want {
			t.Errorf("ParseRateLimit(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "3", "3/", "/60s", "three/60s", "3/60", "3/60s/2"} {
		if got, err := config.ParseRateLimit(bad); err == nil {
			t.Errorf("ParseRateLimit(%q) = %v, want an error", bad, got)
		}
	}
	if s := (config.RateLimit{Count: 9, Per: 15 * time.Minute}).String(); s != "9/15m" {
		t.Errorf("String() = %q, want 9/15m", s)
	}
}

// `syncer config` shows the streams section, of the top level and of each tenant, in a form
// that loads back as the same values; its JSON writes start as text and the limits as
// objects.
func TestStreamsMaskedOutput(t *testing.T) {
	t.Parallel()
	file := fixture.WriteFile(t, "c.yaml", `streams:
  enabled: []
  start: 2026-11-01T03:00:00-05:00
  reporting_limits: [2/90s, 10/1h]
  redact: [agent_notes]
tenants:
  - name: acme
    streams: {start: 30d, time_zone: Europe/Berlin}
`)
	c, err := config.Load(file, nil)
	if err != nil {
		t.Fatal(err)
	}
	out := c.Masked()
	for _, w := range []string{"streams:\n  enabled: []\n  start: \"2026-11-01T03:00:00-05:00\"\n", "    - 2/1m30s\n    - 10/1h\n", "    start: 720h\n", "time_zone: Europe/Berlin"} {
		if !strings.Contains(out, w) {
			t.Errorf("masked output lacks %q:\n%s", w, out)
		}
	}
	back, err := config.Load(fixture.WriteFile(t, "masked.yaml", out), nil)
	if err != nil {
		t.Fatalf("loading the masked output: %v\n%s", err, out)
	}
	if diff := cmp.Diff(c.Streams, back.Streams); diff != "" {
		t.Errorf("the top level's streams load back differently (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(c.Tenants()[0].Streams, back.Tenants()[0].Streams); diff != "" {
		t.Errorf("acme's streams load back differently (-want +got):\n%s", diff)
	}

	data, err := json.Marshal(c.MaskedJSON())
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Streams map[string]any   `json:"streams"`
		Tenants []map[string]any `json:"tenants"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"enabled": []any{}, "start": "2026-11-01T03:00:00-05:00", "window": 10800.0, "audit_window": 3600.0,
		"first_delay": 1200.0, "settle_after": 86400.0, "time_zone": "UTC",
		"reporting_limits": []any{map[string]any{"count": 2.0, "per": 90.0}, map[string]any{"count": 10.0, "per": 3600.0}},
		"redact":           []any{"agent_notes"}, "schedule": "*/15 * * * *",
	}
	if diff := cmp.Diff(want, doc.Streams); diff != "" {
		t.Errorf("JSON streams (-want +got):\n%s", diff)
	}
	if ts := doc.Tenants; len(ts) != 1 || ts[0]["streams"].(map[string]any)["start"] != "720h" {
		t.Errorf("JSON tenants = %v, want acme's streams.start 720h", ts)
	}
}

// The streams' schedule is read as schedule.cron, in schedule.timezone, whatever
// schedule.seconds says.
func TestStreamsSchedule(t *testing.T) {
	t.Parallel()
	c := config.Default()
	c.Schedule.Timezone = "America/New_York"
	c.Schedule.Seconds = true
	c.Schedule.Cron = "*/30 * * * * *"
	c.Streams.Schedule = "0 3 * * *"
	if err := c.Validate(); err != nil {
		t.Fatalf("validate: %v", err)
	}
	s := c.TopLevelTenant().StreamsSchedule()
	if s.Cron != "0 3 * * *" || s.Seconds || s.Timezone != "America/New_York" || s.Timeout != c.Schedule.Timeout {
		t.Errorf("StreamsSchedule() = %+v", s)
	}
	sched, err := s.Parse()
	if err != nil {
		t.Fatal(err)
	}
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	if got, want := sched.Next(from), time.Date(2026, 12, 7, 3, 0, 0, 0, ny); !got.Equal(want) {
		t.Errorf("Next(%v) = %v, want %v (03:00 in New York)", from, got, want)
	}
}
